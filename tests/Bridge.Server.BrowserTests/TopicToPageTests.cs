using Azure.Messaging.ServiceBus;
using Bridge.DevKit;
using Bridge.ServiceBus;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>The product's first promise, seen in a browser: a message sent to the topic shows on the demo page.</summary>
[Collection(ChromiumCollection.Name)]
public class TopicToPageTests(Chromium chromium) : IAsyncLifetime
{
    private const string Topic = "bridge-events";
    private const string Subscription = "bridge";
    private LocalServiceBusProcess _endpoint = null!;
    private BridgeServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _endpoint = await LocalServiceBusProcess.StartAsync(LocalServiceBusConfig.Write(new TopicConfig(Topic, [new SubscriptionConfig(Subscription)])));
        _server = await BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = (await AzuriteProcess.Shared).ConnectionString,
            ["ServiceBusConnection"] = _endpoint.ConnectionString,
            ["ServiceBusTopic"] = Topic,
            ["ServiceBusSubscription"] = Subscription,

            // Publish order across received batches holds with one receiver (README, Guarantees); two compete for
            // the messages, and this test once saw "order 2" stored first.
            ["ServiceBusIngest__Receivers"] = "1",
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _endpoint.DisposeAsync();
    }

    [Fact]
    public async Task Messages_sent_to_the_topic_show_on_the_demo_page_in_order()
    {
        var stream = TestNames.Stream("browser-topic");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={stream}&types=order.created").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();

        await using var client = new ServiceBusClient(_endpoint.ConnectionString);
        await using var sender = client.CreateSender(Topic);
        await sender.SendMessagesAsync(Enumerable.Range(1, 3).Select(n => new ServiceBusMessage($"order {n}")
        {
            Subject = "order.created",
            ApplicationProperties = { [ServiceBusSettings.StreamProperty] = stream },
        }));

        await page.WaitForFunctionAsync("() => document.querySelectorAll('#events li[data-type=\"order.created\"]').length === 3");
        var items = page.Locator("#events li[data-type=\"order.created\"]");
        // The list shows the newest first.
        Assert.Equal(["order 3", "order 2", "order 1"], await items.Locator(".data").AllInnerTextsAsync());
        Assert.Equal(["3", "2", "1"], await items.EvaluateAllAsync<string[]>("items => items.map(item => item.dataset.id)"));
    }
}
