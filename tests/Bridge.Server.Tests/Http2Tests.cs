using System.Net;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// HTTP/2 over TLS on the standalone server: with a certificate configured, many subscriptions share one connection,
/// which is what lifts the browser's limit of 6 HTTP/1.1 connections per origin.
/// </summary>
public class Http2Tests
{
    private const int Subscriptions = 20;

    [Fact]
    public async Task Twenty_subscriptions_share_one_HTTP2_connection_and_all_receive_live_events()
    {
        using var certificate = TestCertificate.Create();
        var settings = new Dictionary<string, string?>(certificate.KestrelSettings.Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value)))
        {
            ["urls"] = "https://127.0.0.1:0",
        };
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync([.. settings.Select(pair => (pair.Key, pair.Value))]);
        Assert.Equal("https", server.BaseAddress.Scheme);

        var connections = 0;
        using var handler = certificate.TrustingHandler(() => Interlocked.Increment(ref connections));
        handler.MaxConnectionsPerServer = 1;
        using var http = new HttpClient(handler)
        {
            BaseAddress = server.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };

        var stream = TestNames.Stream("h2");
        var subscriptions = new List<SseConnection>();
        try
        {
            for (var i = 0; i < Subscriptions; i++)
            {
                subscriptions.Add(await SseConnection.OpenAsync(http, $"/api/streams/{stream}/events"));
            }
            Assert.All(subscriptions, subscription => Assert.Equal(HttpVersion.Version20, subscription.Response.Version));
            Assert.All(subscriptions, subscription => Assert.Equal(HttpStatusCode.OK, subscription.Response.StatusCode));
            for (var i = 1; i <= 3; i++)
            {
                Assert.Equal(i, await Api.PublishIdAsync(http, stream, $"live {i}"));
            }
            foreach (var subscription in subscriptions)
            {
                var received = await subscription.ReadEventsAsync(3, Waits.Within(30));
                Assert.Equal(["live 1", "live 2", "live 3"], received.Select(e => e.Data));
            }

            Assert.Equal(1, connections);
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                await subscription.DisposeAsync();
            }
        }
    }
}
