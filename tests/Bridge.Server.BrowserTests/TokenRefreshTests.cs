using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Playwright;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// The demo page on a server that requires tokens, in Chromium: the token travels in the session cookie, a stream
/// ends when its token expires, and the page carries on with a fresh token, with nothing lost or repeated.
/// </summary>
[Collection(ChromiumCollection.Name)]
public class TokenRefreshTests(Chromium chromium) : IAsyncLifetime
{
    private BridgeTestServer _server = null!;
    private string _stream = null!;

    public async Task InitializeAsync()
    {
        var settings = TestTokens.RequireTokens();
        settings["Sse:RetryMilliseconds"] = "200";
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, settings);
        _stream = TestNames.Stream("browser-token");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_token_refreshed_before_it_expires_carries_the_stream_on_through_the_browsers_own_reconnection()
    {
        var page = await OpenPageAsync(lifetime: TimeSpan.FromSeconds(4));
        await PublishAsync("before");

        // The fresh token goes into the cookie now; the stream still ends when the first token expires.
        await page.FillAsync("#token", Token(TimeSpan.FromMinutes(10)));
        await page.DispatchEventAsync("#token", "change");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('reconnects').textContent) >= 1");
        await PublishAsync("after");

        await AssertShownAsync(page, ["before", "after"]);
    }

    [Fact]
    public async Task After_an_expired_token_is_refused_a_fresh_one_resumes_after_the_last_event_shown()
    {
        var page = await OpenPageAsync(lifetime: TimeSpan.FromSeconds(3));
        await PublishAsync("before");
        await page.Locator("#events li[data-id='1']").WaitForAsync();

        // At expiry the stream ends, the browser's reconnection is refused (401), and the page asks for a fresh token.
        await page.WaitForFunctionAsync("() => document.getElementById('note').textContent.includes('Token refused (401)')");
        await PublishAsync("while away");
        await page.FillAsync("#token", Token(TimeSpan.FromMinutes(10)));
        await page.DispatchEventAsync("#token", "change");
        await PublishAsync("back");

        await AssertShownAsync(page, ["before", "while away", "back"]);
    }

    private string Token(TimeSpan lifetime) => TestTokens.Create(subscribe: [_stream], publish: [_stream], lifetime: lifetime);

    private async Task<IPage> OpenPageAsync(TimeSpan lifetime)
    {
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_server.BaseAddress, $"/?stream={_stream}&lastEventId=0&client=eventsource").ToString());
        await page.CheckAsync("#from-start");
        await page.FillAsync("#token", Token(lifetime));
        await page.ClickAsync("#connect");
        await page.Locator("body[data-state=open]").WaitForAsync();
        return page;
    }

    private async Task PublishAsync(string data)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{_stream}/events") { Content = new StringContent(data) };
        request.Headers.Authorization = new("Bearer", TestTokens.Create(publish: [_stream]));
        using var response = await _server.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private static async Task AssertShownAsync(IPage page, string[] expected)
    {
        await page.WaitForFunctionAsync("n => Number(document.getElementById('received').textContent) >= n", expected.Length);
        var ids = await page.EvalOnSelectorAllAsync<string[]>("#events li", "items => items.map(i => i.dataset.id).reverse()");
        var data = await page.EvalOnSelectorAllAsync<string[]>("#events li .data", "items => items.map(i => i.textContent).reverse()");
        Assert.Equal(Enumerable.Range(1, expected.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), ids);
        Assert.Equal(expected, data);
    }
}
