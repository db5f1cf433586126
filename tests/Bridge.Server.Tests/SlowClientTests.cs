using System.Net.Http.Json;
using System.Net.Sockets;
using Bridge.Hub;
using Bridge.Subscribers;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Server.Tests;

/// <summary>
/// A client that stops reading must not hold the server's memory or slow anyone else: its buffer overflows, its
/// subscription ends, and it resumes from storage when it reconnects, with nothing lost.
/// </summary>
public class SlowClientTests : IAsyncLifetime
{
    private BridgeTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, new Dictionary<string, string?>
        {
            ["Sse:SubscriberBufferBytes"] = "65536",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_stalled_client_is_cut_off_while_others_keep_up_and_it_resumes_without_loss()
    {
        var stream = TestNames.Stream("slow");
        var url = $"/api/streams/{stream}/events?lastEventId=0";
        var hub = _server.Services.GetRequiredService<StreamHub>();
        using var stalledHttp = new HttpClient(new SocketsHttpHandler { ConnectCallback = ConnectWithTinyReceiveBufferAsync })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        await using var stalled = await SseConnection.OpenAsync(stalledHttp, url);
        await using var healthy = await SseConnection.OpenAsync(_server.Client, url);
        await Waits.Eventually(() => hub.Subscribers == 2);

        // About 10 MB: more than the kernel will buffer for the stalled socket, so the server must give up on it.
        const int total = 1000;
        var payload = new string('x', 10_000);
        var healthyReads = healthy.ReadEventsAsync(total, Waits.Within(120));
        for (var first = 1; first <= total; first += 50)
        {
            using var content = JsonContent.Create(new { events = Enumerable.Range(first, 50).Select(i => new { data = $"{i}:{payload}" }) });
            using var response = await _server.Client.PostAsync($"/api/streams/{stream}/events/batch", content);
            response.EnsureSuccessStatusCode();
        }

        var received = await healthyReads;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), received.Select(e => e.Id));
        await Waits.Eventually(() => hub.Subscribers == 1, seconds: 30);

        // The stalled client now reads what reached it, and its response has ended; it resumes like a browser.
        var partial = await stalled.ReadToEndAsync(Waits.Within(60));
        Assert.True(partial.Count < total, "The stalled client was disconnected before it got everything.");
        Assert.Equal(Enumerable.Range(1, partial.Count).Select(i => (long)i), partial.Select(e => e.Id));
        await using var resumed = await SseConnection.OpenAsync(_server.Client, $"/api/streams/{stream}/events", stalled.LastEventId);
        var rest = await resumed.ReadEventsAsync(total - partial.Count, Waits.Within(60));
        Assert.Equal(Enumerable.Range(partial.Count + 1, total - partial.Count).Select(i => (long)i), rest.Select(e => e.Id));
    }

    private static async ValueTask<Stream> ConnectWithTinyReceiveBufferAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }
}
