using System.Net;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// The browser's limit of 6 HTTP/1.1 connections per origin, gone over HTTP/2: one page holds 10 native EventSources
/// to one origin, and every one of them receives live events.
/// </summary>
[Collection(ChromiumCollection.Name)]
public class Http2BrowserTests(Chromium chromium)
{
    private const int Sources = 10;

    [Fact]
    public async Task Ten_EventSources_to_one_origin_over_HTTP2_all_receive_live_events()
    {
        using var certificate = TestCertificate.Create();
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync(
            [.. certificate.KestrelSettings.Select(pair => (pair.Key, (string?)pair.Value)), ("urls", "https://127.0.0.1:0")]);
        using var publisher = new HttpClient(certificate.TrustingHandler())
        {
            BaseAddress = server.BaseAddress,
        };
        var streams = Enumerable.Range(0, Sources).Select(i => TestNames.Stream($"h2-{i}")).ToList();
        var page = await chromium.NewPageAsync(trustAnyCertificate: true);
        await page.GotoAsync(new Uri(server.BaseAddress, "/api/health").ToString());

        var protocol = await page.EvaluateAsync<string>("() => performance.getEntriesByType('navigation')[0].nextHopProtocol");
        Assert.Equal("h2", protocol);
        await page.EvaluateAsync(
            """
            (urls) => {
              window.__received = urls.map(() => []);
              window.__open = urls.map(() => false);
              urls.forEach((url, i) => {
                const source = new EventSource(url);
                source.onopen = () => { window.__open[i] = true; };
                source.onmessage = (e) => window.__received[i].push(e.data);
              });
            }
            """,
            streams.Select(stream => $"/api/streams/{stream}/events").ToArray());
        await page.WaitForFunctionAsync("() => window.__open.every(open => open)");

        foreach (var stream in streams)
        {
            using var response = await Api.PublishAsync(publisher, stream, $"live on {stream}");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        await page.WaitForFunctionAsync("() => window.__received.every(events => events.length === 1)");
        var received = await page.EvaluateAsync<string[][]>("() => window.__received");
        Assert.Equal(streams.Select(stream => new[] { $"live on {stream}" }), received);
    }
}
