using System.Text.Json;
using Bridge.Events;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// A page on another origin uses the API from real Chromium, as an app on app.example.com would use Bridge on
/// bridge.example.com: the session cookie, EventSource with credentials, and fetch() with an Authorization header
/// (preflighted). Both origins are localhost on different ports: cross-origin but same-site, so the default
/// SameSite=Lax cookie travels; and localhost is a secure context, so a Secure cookie is kept over plain HTTP.
/// </summary>
[Collection(ChromiumCollection.Name)]
public class CrossOriginTests(Chromium chromium) : IAsyncLifetime
{
    private WebApplication _allowedSite = null!;
    private WebApplication _otherSite = null!;
    private BridgeTestServer _bridge = null!;
    private string _bridgeOrigin = null!;

    public async Task InitializeAsync()
    {
        _allowedSite = await StartBlankSiteAsync();
        _otherSite = await StartBlankSiteAsync();
        var settings = TestTokens.RequireTokens();
        settings["Cors:AllowedOrigins"] = Localhost(_allowedSite);
        settings["Sse:RetryMilliseconds"] = "200";
        _bridge = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, settings);
        _bridgeOrigin = $"http://localhost:{_bridge.BaseAddress.Port}";
    }

    public async Task DisposeAsync()
    {
        await _bridge.DisposeAsync();
        await _allowedSite.DisposeAsync();
        await _otherSite.DisposeAsync();
    }

    [Fact]
    public async Task An_allowed_origin_signs_in_with_the_cookie_subscribes_with_event_source_and_publishes_with_a_bearer_token()
    {
        var stream = TestNames.Stream("cors");
        var page = await OpenAsync(_allowedSite);
        var token = TestTokens.Create(subscribe: [stream], publish: [stream]);

        var session = await page.EvaluateAsync<int>(
            "async ([bridge, token]) => (await fetch(`${bridge}/api/auth/session`, { method: 'POST', credentials: 'include', headers: { Authorization: `Bearer ${token}` } })).status",
            new[] { _bridgeOrigin, token });
        var published = await page.EvaluateAsync<JsonElement>(
            """
            async ([bridge, stream, token]) => {
              const statuses = [];
              for (const data of ['one', 'two']) {
                const response = await fetch(`${bridge}/api/streams/${stream}/events`, {
                  method: 'POST',
                  headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain', 'Idempotency-Key': crypto.randomUUID() },
                  body: data,
                });
                statuses.push(response.status);
              }
              return statuses;
            }
            """,
            new[] { _bridgeOrigin, stream, token });

        // The cookie alone authorizes the EventSource: it can send no header, and this URL carries no token.
        var received = await page.EvaluateAsync<string[]>(
            """
            ([bridge, stream]) => new Promise((resolve, reject) => {
              const source = new EventSource(`${bridge}/api/streams/${stream}/events?lastEventId=0`, { withCredentials: true });
              const data = [];
              source.onmessage = (event) => { data.push(`${event.lastEventId.split('.')[0]}:${event.data}`); if (data.length === 2) { source.close(); resolve(data); } };
              source.onerror = () => { if (source.readyState === EventSource.CLOSED) reject(new Error('refused')); };
            })
            """,
            new[] { _bridgeOrigin, stream });

        var fetchStream = await page.EvaluateAsync<string>(
            """
            async ([bridge, stream, token]) => {
              const controller = new AbortController();
              const response = await fetch(`${bridge}/api/streams/${stream}/events`, {
                headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': '1' }, signal: controller.signal,
              });
              const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
              let text = '';
              while (!text.includes('data: two')) {
                const { value, done } = await reader.read();
                if (done) break;
                text += value;
              }
              controller.abort();
              return `${response.status} ${text}`;
            }
            """,
            new[] { _bridgeOrigin, stream, token });

        Assert.Equal(204, session);
        Assert.Equal([201, 201], published.EnumerateArray().Select(status => status.GetInt32()));
        Assert.Equal(["1:one", "2:two"], received);
        Assert.StartsWith("200 ", fetchStream, StringComparison.Ordinal);
        Assert.Matches("id: 2\\.[a-z0-9]+\n", fetchStream);
        Assert.DoesNotContain("data: one", fetchStream, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_cookie_the_event_source_is_refused_and_does_not_retry()
    {
        var page = await OpenAsync(_allowedSite);

        var outcome = await page.EvaluateAsync<string>(
            """
            ([bridge, stream]) => new Promise((resolve) => {
              const source = new EventSource(`${bridge}/api/streams/${stream}/events`, { withCredentials: true });
              source.onopen = () => resolve('open');
              source.onerror = () => resolve(source.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
            })
            """,
            new[] { _bridgeOrigin, TestNames.Stream("no-cookie") });

        Assert.Equal("closed", outcome);
    }

    [Fact]
    public async Task A_page_from_an_origin_not_listed_can_neither_publish_nor_read()
    {
        var stream = TestNames.Stream("cors-denied");
        var page = await OpenAsync(_otherSite);
        var token = TestTokens.Create(subscribe: [stream], publish: [stream]);

        var outcome = await page.EvaluateAsync<string[]>(
            """
            async ([bridge, stream, token]) => {
              const attempt = async (request) => { try { return `status ${(await request()).status}`; } catch (error) { return error.name; } };
              return [
                await attempt(() => fetch(`${bridge}/api/streams/${stream}/events`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: 'x' })),
                await attempt(() => fetch(`${bridge}/api/streams/${stream}/events?access_token=${token}`)),
                await attempt(() => fetch(`${bridge}/api/auth/session`, { method: 'POST', credentials: 'include', headers: { Authorization: `Bearer ${token}` } })),
              ];
            }
            """,
            new[] { _bridgeOrigin, stream, token });

        // Chromium reports a CORS refusal as a network error (TypeError) and keeps the response from the page.
        Assert.Equal(["TypeError", "TypeError", "TypeError"], outcome);
        Assert.Equal(0, (await _bridge.Services.GetRequiredService<IEventLog>().GetHeadAsync(StreamName.Parse(stream), CancellationToken.None)).LastId);
    }

    private async Task<IPage> OpenAsync(WebApplication site)
    {
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(Localhost(site) + "/");
        return page;
    }

    private static string Localhost(WebApplication site) => $"http://localhost:{new Uri(site.Urls.Single()).Port}";

    /// <summary>An empty page on its own origin: the "app" whose scripts call Bridge.</summary>
    private static async Task<WebApplication> StartBlankSiteAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var site = builder.Build();
        site.MapGet("/", () => Results.Content("<!doctype html><title>An app on another origin</title>", "text/html"));
        await site.StartAsync();
        return site;
    }
}
