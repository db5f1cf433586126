using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Bridge.Server.Tests;

/// <summary>
/// Bridge's metrics and spans, read through OpenTelemetry's in-memory exporter from a real server on real Azurite:
/// each instrument moves when its event happens.
/// </summary>
/// <remarks>
/// OpenTelemetry listens to every meter named "Bridge" in the process, so no other server may run meanwhile: this
/// class has a collection that runs alone.
/// </remarks>
[Collection(nameof(TelemetryTests))]
public class TelemetryTests
{
    [Fact]
    public async Task Each_instrument_moves_when_its_event_happens()
    {
        var metrics = new List<Metric>();
        var spans = new List<Activity>();
        await using var server = await BridgeTestServer.StartAsync(
            (await AzuriteProcess.Shared).ConnectionString,
            new Dictionary<string, string?>
            {
                ["Tail:PollIntervalMilliseconds"] = "100",
                ["Sse:SubscriberBufferBytes"] = "16384",
                ["Sse:SocketSendBufferBytes"] = "4096",
            },
            configure: builder =>
            {
                // The server's own metrics pipeline, read in memory; spans need an exporter to be recorded at all (the
                // server adds OTLP's when configured), so this test adds one of its own.
                builder.Services.ConfigureOpenTelemetryMeterProvider(provider => provider.AddInMemoryExporter(metrics));
                builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(Bridge.Telemetry.BridgeMetrics.ActivitySourceName).AddInMemoryExporter(spans));
            });
        var stream = TestNames.Stream("telemetry");
        for (var i = 1; i <= 3; i++)
        {
            await Api.PublishIdAsync(server.Client, stream, $"event {i}");
        }

        using (var refused = await server.Client.PostAsync($"/api/streams/{stream}/events?type=", new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        await using (var replaying = await SseConnection.OpenAsync(server.Client, $"/api/streams/{stream}/events?lastEventId=0"))
        {
            Assert.Equal(3, (await replaying.ReadEventsAsync(3, Waits.Within(10))).Count);
            await Api.PublishIdAsync(server.Client, stream, "live");
            Assert.Equal("live", (await replaying.ReadEventAsync(Waits.Within(10)))!.Data);
            Assert.Equal(1, Sum(Flush(server, metrics), "bridge.subscribers.open"));
        }

        await DropASlowSubscriberAsync(server, TestNames.Stream("telemetry-slow"));
        await Task.Delay(300); // a few tail polls
        var exported = Flush(server, metrics);

        Assert.Equal(0, Sum(exported, "bridge.subscribers.open"));
        Assert.True(Sum(exported, "bridge.events.appended") >= 4);
        Assert.Equal(1, Sum(exported, "bridge.appends.refused", ("reason", "invalid-event-type")));
        Assert.Equal(3, Sum(exported, "bridge.replay.rows"));
        Assert.True(Sum(exported, "bridge.events.delivered") >= 4);
        Assert.Equal(1, Sum(exported, "bridge.subscribers.dropped", ("reason", "slow")));
        Assert.True(Sum(exported, "bridge.tail.polls") > 0);
        Assert.True(Sum(exported, "bridge.storage.transactions", ("kind", "commit")) >= 4);
        Assert.True(Sum(exported, "bridge.storage.transactions", ("kind", "read-head")) > 0);
        Assert.True(Sum(exported, "bridge.storage.transactions", ("kind", "query")) > 0);
        Assert.True(Count(exported, "bridge.publish.duration") >= 4);
        Assert.Equal(0.001, FirstBucketBound(exported, "bridge.publish.duration"));
        Assert.Equal(0.001, FirstBucketBound(exported, "bridge.delivery.delay"));
        Assert.True(Count(exported, "bridge.delivery.delay") >= 1);
        Assert.Contains(spans, span => span.OperationName == "bridge.publish" && (string?)span.GetTagItem("bridge.stream") == stream);
        Assert.Contains(spans, span => span.OperationName == "bridge.replay" && (string?)span.GetTagItem("bridge.stream") == stream);
    }

    /// <summary>A client that never reads, on a stream that gets far more than its buffer, is cut off.</summary>
    private static async Task DropASlowSubscriberAsync(BridgeTestServer server, string stream)
    {
        var hub = server.Services.GetRequiredService<Bridge.Hub.StreamHub>();
        await Waits.Eventually(() => hub.Subscribers == 0);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /api/streams/{stream}/events HTTP/1.1\r\nHost: test\r\n\r\n"));
        await Waits.Eventually(() => hub.Subscribers == 1);
        // Up to 20 MB, in batches: more than the kernel buffers for a socket that is not read.
        var data = new string('x', 10_000);
        for (var batch = 0; batch < 40 && hub.Subscribers == 1; batch++)
        {
            using var content = System.Net.Http.Json.JsonContent.Create(new { events = Enumerable.Range(0, 50).Select(_ => new { data }) });
            using var response = await server.Client.PostAsync($"/api/streams/{stream}/events/batch", content);
            response.EnsureSuccessStatusCode();
        }

        await Waits.Eventually(() => hub.Subscribers == 0, seconds: 30);
    }

    private static List<Metric> Flush(BridgeTestServer server, List<Metric> exported)
    {
        exported.Clear();
        server.Services.GetRequiredService<MeterProvider>().ForceFlush();
        return exported;
    }

    private static IEnumerable<MetricPoint> Points(List<Metric> exported, string name, (string Key, string Value)? tag)
    {
        foreach (var metric in exported.Where(metric => metric.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var matches = tag is null;
                foreach (var pair in point.Tags)
                {
                    matches |= pair.Key == tag?.Key && (string?)pair.Value == tag?.Value;
                }

                if (matches)
                {
                    yield return point;
                }
            }
        }
    }

    private static long Sum(List<Metric> exported, string name, (string Key, string Value)? tag = null) =>
        Points(exported, name, tag).Sum(point => point.GetSumLong());

    private static long Count(List<Metric> exported, string name) =>
        Points(exported, name, null).Sum(point => point.GetHistogramCount());

    /// <summary>A histogram's first bucket bound: seconds need bounds well below the exporters' default of 5.</summary>
    private static double FirstBucketBound(List<Metric> exported, string name)
    {
        foreach (var bucket in Points(exported, name, null).First().GetHistogramBuckets())
        {
            return bucket.ExplicitBound;
        }

        throw new InvalidOperationException($"{name} has no buckets.");
    }
}

/// <summary>Runs <see cref="TelemetryTests"/> after every other test of the assembly, with none beside it.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTestsCollection
{
}
