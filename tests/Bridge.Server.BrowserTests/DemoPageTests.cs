using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Playwright;

namespace Bridge.Server.BrowserTests;

/// <summary>The demo page as a person would use it.</summary>
[Collection(ChromiumCollection.Name)]
public class DemoPageTests(Chromium chromium) : IAsyncLifetime
{
    private BridgeServerProcess _server = null!;

    public async Task InitializeAsync() =>
        _server = await BridgeServerProcess.StartAsync(new Dictionary<string, string> { ["AzureWebJobsStorage"] = (await AzuriteProcess.Shared).ConnectionString });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Publishing_from_the_form_shows_the_event_in_the_list()
    {
        var stream = TestNames.Stream("browser-demo");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={stream}").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();

        await page.FillAsync("#publish-type", "greeting");
        await page.FillAsync("#publish-data", "hello from the page\nsecond line");
        await page.ClickAsync("#publish");

        var item = page.Locator("#events li[data-type=greeting]");
        await item.WaitForAsync();

        // The event can arrive over SSE before the publish request's own response does.
        await page.WaitForFunctionAsync("() => document.querySelector('#publish-result').innerText !== 'Publishing…'");
        Assert.Equal("1", await item.GetAttributeAsync("data-id"));
        Assert.Equal("hello from the page\nsecond line", await item.Locator(".data").InnerTextAsync());
        Assert.Equal("Stored as event 1.", await page.InnerTextAsync("#publish-result"));
        Assert.Equal("1", await page.InnerTextAsync("#received"));
        Directory.CreateDirectory(Chromium.ScreenshotDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, "demo-page.png"), FullPage = true });
    }

    [Theory]
    [InlineData("99999", "cursor-ahead-of-stream")]
    [InlineData("not-a-cursor", "malformed-cursor")]
    public async Task A_page_resuming_from_an_unknown_cursor_shows_the_gap_notice(string cursor, string reason)
    {
        var stream = TestNames.Stream("browser-gap");
        await Publisher.PublishAsync(_server.Client, stream, "only event");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={stream}&lastEventId={cursor}").ToString());

        var notice = page.Locator("#events li.gap .notice");
        await notice.WaitForAsync();
        var text = await notice.InnerTextAsync();
        Assert.Contains("Gap", text, StringComparison.Ordinal);
        Assert.Contains(reason, text, StringComparison.Ordinal);
        Assert.Contains("resuming after event 1", text, StringComparison.Ordinal);
        Assert.Matches("^1\\.[a-z0-9]{8}$", await page.InnerTextAsync("#last-id"));
    }

    [Fact]
    public async Task A_new_user_sees_the_quick_start_greeting_replayed_then_a_new_one_live_with_the_countdown_and_the_auth_state()
    {
        // The README's quick start publishes with ?type=greeting, which a page that listened only for "message" hid.
        var stream = TestNames.Stream("greetings")[..16]; // Short: its screenshot is the README's.
        await Publisher.PublishAsync(_server.Client, stream, "hello before the page opened", type: "greeting");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={stream}&lastEventId=0").ToString());

        await page.Locator("#events li[data-type=greeting][data-origin=replay]").WaitForAsync();
        await Publisher.PublishAsync(_server.Client, stream, "hello while it is open", type: "greeting");
        var live = page.Locator("#events li[data-type=greeting][data-origin=live]");
        await live.WaitForAsync();

        Assert.Equal("hello while it is open", await live.Locator(".data").InnerTextAsync());
        await page.WaitForFunctionAsync("() => document.querySelector('#countdown').innerText.includes('closes this response in')");
        Assert.Contains("Open", await page.InnerTextAsync("#auth"), StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1", await page.InnerTextAsync("#protocol"), StringComparison.Ordinal);
        Assert.Equal("docs/api.md", await page.GetAttributeAsync("footer a[href='docs/api.md']", "href"));
        using var reference = await _server.Client.GetAsync("/docs/api.md");
        Assert.True(reference.IsSuccessStatusCode, $"The API reference the page links to answered {(int)reference.StatusCode}.");
        Directory.CreateDirectory(Chromium.ScreenshotDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, "demo-page-greeting.png"), FullPage = true });
    }

    [Theory]
    [InlineData("")]
    [InlineData("&client=eventsource&types=order.created,payment.received")]
    public async Task Several_streams_are_followed_on_one_response_and_each_event_names_its_stream_and_its_own_id(string client)
    {
        var (orders, payments) = (TestNames.Stream("orders")[..14], TestNames.Stream("payments")[..16]); // Short: its screenshot is in the README.
        var page = await chromium.NewPageAsync();
        var subscriptions = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "GET" && request.Url.Contains("/events", StringComparison.Ordinal))
            {
                subscriptions.Add(new Uri(request.Url).PathAndQuery);
            }
        };
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={orders},{payments}{client}").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();

        await Publisher.PublishAsync(_server.Client, orders, "order 1", type: "order.created");
        await Publisher.PublishAsync(_server.Client, orders, "order 2", type: "order.created");
        await Publisher.PublishAsync(_server.Client, payments, "payment 1", type: "payment.received");

        await page.Locator($"#events li[data-stream='{payments}'][data-type='payment.received'][data-id='1']").WaitForAsync();
        await page.Locator($"#events li[data-stream='{orders}'][data-type='order.created'][data-id='2']").WaitForAsync();
        Assert.Equal(3, await page.Locator("#events li").CountAsync());
        Assert.Equal([$"/api/events?stream={orders}&stream={payments}"], subscriptions);
        Assert.Equal($"GET /api/events?stream={orders}&stream={payments}", await page.Locator("#request").TextContentAsync());
        if (client.Length == 0)
        {
            Directory.CreateDirectory(Chromium.ScreenshotDirectory);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, "demo-page-several.png"), FullPage = true });
        }
    }

    [Fact]
    public async Task The_page_counts_down_to_each_planned_close_reconnects_and_resumes_with_every_event_once()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var server = await BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "3",
            ["Sse__RetryMilliseconds"] = "200",
        });
        var stream = TestNames.Stream("browser-lifetimes");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.BaseAddress, $"/?stream={stream}").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#countdown').innerText.includes('closes this response in')");

        // Events before, across and after at least two planned closes.
        for (var i = 1; i <= 6; i++)
        {
            await Publisher.PublishAsync(server.Client, stream, $"event {i}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        await page.WaitForFunctionAsync("() => Number(document.querySelector('#reconnects').innerText) >= 2 && document.querySelectorAll('#events li').length >= 6");
        var ids = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#events li')].map(li => li.dataset.id).reverse()");
        Assert.Equal(["1", "2", "3", "4", "5", "6"], ids);
    }

    [Fact]
    public async Task The_page_fits_a_phone_screen()
    {
        var page = await chromium.NewPageAsync(new ViewportSize { Width = 375, Height = 740 });
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={TestNames.Stream("phone")}").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "The page scrolls sideways at phone width.");
    }
}
