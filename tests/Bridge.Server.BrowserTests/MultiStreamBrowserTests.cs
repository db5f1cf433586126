using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// A native EventSource on several streams at once, across many server-initiated closes: handlers for each stream's
/// own event types, and a <c>bridge.stream</c> listener to tell the streams apart.
/// </summary>
[Collection(ChromiumCollection.Name)]
public class MultiStreamBrowserTests(Chromium chromium)
{
    [Fact]
    public async Task One_event_source_follows_several_streams_through_reconnections_with_nothing_lost_or_repeated()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var server = await BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "2",
            ["Sse__RetryMilliseconds"] = "200",
        });
        var (orders, greetings) = (TestNames.Stream("browser-orders"), TestNames.Stream("browser-greetings"));
        var page = await chromium.NewPageAsync();
        var source = await NativeEventSource.OpenAsync(page, server.BaseAddress, $"/api/events?stream={orders}&stream={greetings}", "greeting");
        await source.WaitForOpenAsync();

        // Publish to both streams until the browser has lived through at least three closes (bounded).
        var published = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while ((await source.ReadAsync()).Errors.Count < 3 && published < 300)
        {
            deadline.Token.ThrowIfCancellationRequested();
            published++;
            await Publisher.PublishAsync(server.Client, orders, $"order {published}");
            await Publisher.PublishAsync(server.Client, greetings, $"hello {published}", type: "greeting");
            await Task.Delay(50, deadline.Token);
        }

        await source.WaitForEventsAsync(2 * published);
        var log = await source.ReadAsync();
        Assert.True(log.Errors.Count >= 3, $"Only {log.Errors.Count} closes.");
        Assert.Equal(Enumerable.Range(1, published).Select(i => $"message/order {i}"), log.Events.Where(e => e.Stream == orders).Select(e => $"{e.Type}/{e.Data}"));
        Assert.Equal(Enumerable.Range(1, published).Select(i => $"greeting/hello {i}"), log.Events.Where(e => e.Stream == greetings).Select(e => $"{e.Type}/{e.Data}"));
        Assert.Equal(2 * published, log.Events.Count);
    }
}
