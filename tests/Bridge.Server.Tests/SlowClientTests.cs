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
            // Twice a 500 KB batch, so that the healthy client keeps up on a loaded machine (with 64 KiB it was once cut
            // off too in CI), while the stalled and the 1 KB/s clients, sent megabytes, overflow all the same.
            ["Sse:SubscriberBufferBytes"] = "1048576",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_stalled_client_is_cut_off_while_others_keep_up_and_it_resumes_without_loss()
    {
        var stream = TestNames.Stream("slow");
        var url = $"/api/streams/{stream}/events";
        var hub = _server.Services.GetRequiredService<StreamHub>();
        using var stalledHttp = ClientConnectingWith(ConnectWithTinyReceiveBufferAsync);
        await using var stalled = await SseConnection.OpenAsync(stalledHttp, url, lastEventId: "0");
        await using var healthy = await SseConnection.OpenAsync(_server.Client, url, lastEventId: "0");
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
        Assert.True(stalled.CutOff, "The stalled client's response ended cleanly, as if it had read everything.");
        Assert.True(partial.Count < total, "The stalled client was disconnected before it got everything.");
        Assert.Equal(Enumerable.Range(1, partial.Count).Select(i => (long)i), partial.Select(e => e.Id));
        await using var resumed = await SseConnection.OpenAsync(_server.Client, $"/api/streams/{stream}/events", stalled.LastEventId);
        var rest = await resumed.ReadEventsAsync(total - partial.Count, Waits.Within(60));
        Assert.Equal(Enumerable.Range(partial.Count + 1, total - partial.Count).Select(i => (long)i), rest.Select(e => e.Id));
    }

    [Fact]
    public async Task A_client_reading_1_KB_a_second_is_cut_off_once_it_overflows_and_resumes_from_its_last_whole_event()
    {
        var stream = TestNames.Stream("trickle");
        var url = $"/api/streams/{stream}/events";
        var hub = _server.Services.GetRequiredService<StreamHub>();
        using var trickleHttp = ClientConnectingWith(ConnectReadingOneKilobyteASecondAsync);
        await using var trickle = await SseConnection.OpenAsync(trickleHttp, url, lastEventId: "0");
        await Waits.Eventually(() => hub.Subscribers == 1);

        // 2 MB: at 1 KB/s the client would read for half an hour; its response must not last that long.
        const int total = 2_000;
        var payload = new string('x', 1_000);
        for (var first = 1; first <= total; first += 100)
        {
            using var content = JsonContent.Create(new { events = Enumerable.Range(first, 100).Select(i => new { data = $"{i}:{payload}" }) });
            using var response = await _server.Client.PostAsync($"/api/streams/{stream}/events/batch", content);
            response.EnsureSuccessStatusCode();
        }

        var partial = await trickle.ReadToEndAsync(Waits.Within(60));
        Assert.True(trickle.CutOff, "The response ended cleanly, after the client had read everything.");
        Assert.Equal(Enumerable.Range(1, partial.Count).Select(i => (long)i), partial.Select(e => e.Id));

        await using var resumed = await SseConnection.OpenAsync(_server.Client, $"/api/streams/{stream}/events", trickle.LastEventId);
        var rest = await resumed.ReadEventsAsync(total - partial.Count, Waits.Within(60));
        Assert.Equal(Enumerable.Range(partial.Count + 1, total - partial.Count).Select(i => (long)i), rest.Select(e => e.Id));
    }

    private HttpClient ClientConnectingWith(Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect) =>
        new(new SocketsHttpHandler { ConnectCallback = connect })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };

    private static async ValueTask<Stream> ConnectReadingOneKilobyteASecondAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        new TrickleStream(await ConnectWithTinyReceiveBufferAsync(context, cancellationToken));

    private static async ValueTask<Stream> ConnectWithTinyReceiveBufferAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Reads at most 256 bytes every quarter of a second: a client on a very poor link.</summary>
    private sealed class TrickleStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(250, cancellationToken);
            return await inner.ReadAsync(buffer[..Math.Min(buffer.Length, 256)], cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
