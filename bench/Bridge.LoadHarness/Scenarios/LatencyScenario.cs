using System.Diagnostics;
using System.Net;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Target 4: time from publishing to receipt, with publisher and subscriber on the same server process, and on two
/// processes sharing the storage account (where delivery waits for the subscriber's tail to poll).
/// </summary>
internal static class LatencyScenario
{
    /// <summary>Latency percentiles in milliseconds.</summary>
    public sealed record Result(double SameProcessP50, double CrossProcessP50, int SameProcessSamples, int CrossProcessSamples);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var samples = options.Int("samples", 200);
        var crossSamples = options.Int("cross-samples", 40);
        var pollMilliseconds = options.Int("poll-ms", 1000);
        var warmUp = TimeSpan.FromSeconds(options.Int("warmup-seconds", 2));

        await using var azurite = await AzuriteProcess.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "3600",
            ["Tail__PollIntervalMilliseconds"] = pollMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var serverA = await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly"));
        await using var serverB = await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly"));

        report.Progress($"Latency: {samples} publishes within one process");
        var (same, postTimes) = await MeasureAsync(serverA, serverA, "same", samples, warmUp, () => TimeSpan.FromMilliseconds(20));
        report.Progress($"Latency: {crossSamples} publishes across processes (poll every {pollMilliseconds} ms)");
        var (cross, _) = await MeasureAsync(serverA, serverB, "cross", crossSamples, warmUp, () => TimeSpan.FromMilliseconds(Random.Shared.Next(100, 700)));

        report.Heading("Target 4 — latency");
        report.Line($"Time from just before the publishing POST to the event's arrival at an SSE client, on loopback. Poll interval {pollMilliseconds} ms.");
        report.Table(
            ["Path", "Samples", "p50", "p99", "Target", "Met"],
            [
                ["Same process (publish and subscribe on one server)", $"{same.Count}", $"{Measure.Percentile(same, 50):F1} ms", $"{Measure.Percentile(same, 99):F1} ms", "p50 ≤ 5 ms", Measure.Percentile(same, 50) <= 5 ? "yes" : "**no**"],
                ["Across processes (publish on A, subscribe on B)", $"{cross.Count}", $"{Measure.Percentile(cross, 50):F1} ms", $"{Measure.Percentile(cross, 99):F1} ms", $"p50 ≤ {pollMilliseconds + 50} ms", Measure.Percentile(cross, 50) <= pollMilliseconds + 50 ? "yes" : "**no**"],
            ]);
        report.Line($"For reference, the publishing POST itself (a durable commit to Azurite) took p50 {Measure.Percentile(postTimes, 50):F1} ms, p99 {Measure.Percentile(postTimes, 99):F1} ms in the same-process run.");
        return new Result(Measure.Percentile(same, 50), Measure.Percentile(cross, 50), same.Count, cross.Count);
    }

    private static async Task<(List<double> Latencies, List<double> PostTimes)> MeasureAsync(
        BridgeServerProcess publishTo,
        BridgeServerProcess subscribeTo,
        string stream,
        int samples,
        TimeSpan warmUp,
        Func<TimeSpan> pause)
    {
        await using var swarm = new SseSwarm(samples);
        await swarm.ConnectAsync(new IPEndPoint(IPAddress.Loopback, subscribeTo.BaseAddress.Port), $"/api/streams/{stream}/events", 1, 1, _ => { }, TimeSpan.FromSeconds(30));
        using (await publishTo.Client.PostAsync($"/api/streams/{stream}/events", new StringContent("warm-up")))
        {
        }

        await Task.Delay(warmUp);
        var latencies = new List<double>();
        var postTimes = new List<double>();
        for (var marker = 0; marker < samples; marker++)
        {
            var sent = Stopwatch.GetTimestamp();
            using (var response = await publishTo.Client.PostAsync($"/api/streams/{stream}/events", new StringContent($"mark-{marker}.")))
            {
                response.EnsureSuccessStatusCode();
            }

            postTimes.Add(Measure.Milliseconds(sent, Stopwatch.GetTimestamp()));
            await swarm.WaitForMarkerAsync(marker, TimeSpan.FromSeconds(10));
            latencies.AddRange(swarm.Latencies(marker, sent));
            await Task.Delay(pause());
        }

        latencies.Sort();
        postTimes.Sort();
        return (latencies, postTimes);
    }
}
