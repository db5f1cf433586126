using System.Diagnostics;
using System.Net;
using System.Text;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Events;
using Bridge.TableStorage;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// The HTTP publish path against raw storage (issue 15): single-event POSTs from many publishers on one stream, and
/// batch POSTs, each against 100-entity transactions written straight to the same Azurite in the same round; and the
/// server CPU a refused request costs beside an accepted one. One server on default settings (the default publish
/// limits included, plus any <c>--server-env</c>), and a second whose rate limit refuses nearly everything.
/// </summary>
internal static class PublishScenario
{
    private const int BatchSize = 99;
    private const int BatchPublishers = 8;

    /// <summary>Median ratios to raw, how many accepted-path publishes were refused, and a refusal's CPU against an acceptance's.</summary>
    public sealed record Result(double SingleRatio, double BatchRatio, int RefusedOnDefaultLimits, double RefusalCostRatio);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var events = options.Int("publish-events", 20_000);
        var publishers = options.Int("publish-publishers", 64);
        var rounds = options.Int("publish-rounds", 3);
        var data = new string('x', options.Int("data-bytes", 200));
        var warmUp = options.Int("publish-warmup", 10_000);

        await using var azurite = await AzuriteProcess.StartAsync();
        var defaults = new Dictionary<string, string>(options.Pairs("server-env"))
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Telemetry__PrometheusScrapeEndpoint"] = "true", // to count commits, read only between measurements
        };
        await using var server = await BridgeServerProcess.StartAsync(defaults, assembly: options.Text("server-assembly"), productLimits: true);
        await using var refusing = await BridgeServerProcess.StartAsync(
            new Dictionary<string, string>(defaults) { ["Limits__PublishRequestsPerSecond"] = "1", ["Limits__PublishBurst"] = "1" },
            assembly: options.Text("server-assembly"));
        var table = new TableClient(azurite.ConnectionString, new TableEventLogOptions().EventsTable);

        report.Progress($"Publish: {events} events per measurement; single events from {publishers} publishers, batches of {BatchSize} from {BatchPublishers}; {rounds} rounds");
        // Until the servers' code is compiled at its final tier and their pools have grown: a first round after only
        // 2,000 events cost the server 2.5 times the CPU per event of the later rounds.
        await Emptied(table, SingleAsync(server, azurite, publishers, warmUp, data));
        await Emptied(table, BatchAsync(server, azurite, warmUp, data));
        await Emptied(table, RawAsync(table, azurite, warmUp, data));
        await RefusedAsync(refusing, azurite, publishers, warmUp, data);

        var measured = new List<(Raw Raw, Path Single, Path Batch, double RefusedCpu)>();
        for (var round = 1; round <= rounds; round++)
        {
            // Azurite slows down as it holds more, so every measurement starts on an empty table, which it then deletes
            // (the server creates its table again on its next append).
            var rawBefore = await Emptied(table, RawAsync(table, azurite, events, data));
            var single = await Emptied(table, SingleAsync(server, azurite, publishers, events, data));
            var batch = await Emptied(table, BatchAsync(server, azurite, events, data));
            var rawAfter = await Emptied(table, RawAsync(table, azurite, events, data));
            var refusedCpu = await RefusedAsync(refusing, azurite, publishers, events, data);
            var raw = new Raw((rawBefore.Rate + rawAfter.Rate) / 2, (rawBefore.AzuriteCpuPerEvent + rawAfter.AzuriteCpuPerEvent) / 2);
            measured.Add((raw, single, batch, refusedCpu));
            report.Progress($"  round {round}: raw {raw.Rate:F0}/s (Azurite {raw.AzuriteCpuPerEvent:F0} µs/event); single {single.Rate:F0}/s ({single.Rate / raw.Rate:F2}, {single.Refused} refused, server {single.ServerCpuPerEvent:F0} + Azurite {single.AzuriteCpuPerEvent:F0} + publishers {single.ClientCpuPerEvent:F0} µs/event, {single.EventsPerCommit:F0} events/commit); batch {batch.Rate:F0}/s ({batch.Rate / raw.Rate:F2}, server {batch.ServerCpuPerEvent:F0} + Azurite {batch.AzuriteCpuPerEvent:F0} + publishers {batch.ClientCpuPerEvent:F0} µs/event, {batch.EventsPerCommit:F0} events/commit); refused {refusedCpu:F0} µs/request");
        }

        var singleRatio = IngestScenario.Median(measured.Select(m => m.Single.Rate / m.Raw.Rate));
        var batchRatio = IngestScenario.Median(measured.Select(m => m.Batch.Rate / m.Raw.Rate));
        var acceptedCpu = IngestScenario.Median(measured.Select(m => m.Single.CpuPerRequest));
        var refusedCpuMedian = IngestScenario.Median(measured.Select(m => m.RefusedCpu));
        report.Heading("Publish path — HTTP against raw storage");
        report.Line($"{events} events per measurement, {data.Length}-byte data, one stream per measurement; {rounds} rounds, each ratio taken within its round against the mean of a raw run just before and just after.");
        report.Line("");
        report.Table(
            ["Path", "Events/s (median)", "× raw (median)", "Server CPU per request", "Server CPU per event", "Azurite CPU per event", "Refused (429) in all rounds", "Target"],
            [
                ["Raw 100-entity transactions (baseline)", $"{IngestScenario.Median(measured.Select(m => m.Raw.Rate)):F0}", "1.00", "", "", $"{IngestScenario.Median(measured.Select(m => m.Raw.AzuriteCpuPerEvent)):F0} µs", "", ""],
                [$"Single-event POSTs, {publishers} publishers", $"{IngestScenario.Median(measured.Select(m => m.Single.Rate)):F0}", $"{singleRatio:F2}", $"{acceptedCpu:F0} µs", $"{IngestScenario.Median(measured.Select(m => m.Single.ServerCpuPerEvent)):F0} µs", $"{IngestScenario.Median(measured.Select(m => m.Single.AzuriteCpuPerEvent)):F0} µs", $"{measured.Sum(m => m.Single.Refused)}", singleRatio >= 0.6 ? "≥ 0.6: yes" : "≥ 0.6: **no**"],
                [$"Batch POSTs of {BatchSize}, {BatchPublishers} publishers", $"{IngestScenario.Median(measured.Select(m => m.Batch.Rate)):F0}", $"{batchRatio:F2}", $"{IngestScenario.Median(measured.Select(m => m.Batch.CpuPerRequest)):F0} µs", $"{IngestScenario.Median(measured.Select(m => m.Batch.ServerCpuPerEvent)):F0} µs", $"{IngestScenario.Median(measured.Select(m => m.Batch.AzuriteCpuPerEvent)):F0} µs", $"{measured.Sum(m => m.Batch.Refused)}", batchRatio >= 0.9 ? "≥ 0.9: yes" : "≥ 0.9: **no**"],
                ["A refused single-event POST (429)", "", "", $"{refusedCpuMedian:F0} µs ({refusedCpuMedian / acceptedCpu:F2} × accepted)", "", "", "all", ""],
            ]);
        return new Result(singleRatio, batchRatio, measured.Sum(m => m.Single.Refused + m.Batch.Refused), refusedCpuMedian / acceptedCpu);
    }

    private sealed record Path(double Rate, double CpuPerRequest, int Refused, double ServerCpuPerEvent, double AzuriteCpuPerEvent, double ClientCpuPerEvent, double EventsPerCommit);

    private sealed record Raw(double Rate, double AzuriteCpuPerEvent);

    private static async Task<T> Emptied<T>(TableClient table, Task<T> measurement)
    {
        var result = await measurement;
        await table.DeleteAsync();
        return result;
    }

    private static async Task<Path> SingleAsync(BridgeServerProcess server, AzuriteProcess azurite, int publishers, int events, string data)
    {
        var stream = TestNames.Stream("single");
        return await MeasureAsync(server, azurite, events, events, publishers, _ => new StringContent(data), $"/api/streams/{stream}/events");
    }

    private static async Task<Path> BatchAsync(BridgeServerProcess server, AzuriteProcess azurite, int events, string data)
    {
        var stream = TestNames.Stream("batch");
        var body = "{\"events\":[" + string.Join(',', Enumerable.Repeat($"{{\"data\":\"{data}\"}}", BatchSize)) + "]}";
        var requests = events / BatchSize;
        return await MeasureAsync(server, azurite, requests, requests * BatchSize, BatchPublishers, _ => new StringContent(body, Encoding.UTF8, "application/json"), $"/api/streams/{stream}/events/batch");
    }

    /// <summary>Server CPU per request when every request is refused by the rate limit.</summary>
    private static async Task<double> RefusedAsync(BridgeServerProcess server, AzuriteProcess azurite, int publishers, int requests, string data)
    {
        var stream = TestNames.Stream("refused");
        var path = await MeasureAsync(server, azurite, requests, requests, publishers, _ => new StringContent(data), $"/api/streams/{stream}/events");
        return path.CpuPerRequest;
    }

    /// <summary>Sends <paramref name="requests"/> POSTs from <paramref name="publishers"/> concurrent publishers.</summary>
    private static async Task<Path> MeasureAsync(BridgeServerProcess server, AzuriteProcess azurite, int requests, int events, int publishers, Func<int, HttpContent> content, string url)
    {
        var next = 0;
        var refused = 0;
        var commitsBefore = await CommitsAsync(server);
        var cpuBefore = Measure.CpuTime(server.ProcessId);
        var azuriteBefore = Measure.CpuTime(azurite.Process.Id);
        var clientBefore = Measure.CpuTime(Environment.ProcessId);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var n && n <= requests)
            {
                using var response = await server.Client.PostAsync(url, content(n));
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref refused);
                }
                else if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"A publish failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpu = Measure.CpuTime(server.ProcessId) - cpuBefore;
        var azuriteCpu = Measure.CpuTime(azurite.Process.Id) - azuriteBefore;
        var clientCpu = Measure.CpuTime(Environment.ProcessId) - clientBefore;
        var commits = await CommitsAsync(server) - commitsBefore;
        return new Path(
            events * (1 - (refused / (double)requests)) / elapsed.TotalSeconds,
            cpu.TotalMicroseconds / requests,
            refused,
            cpu.TotalMicroseconds / events,
            azuriteCpu.TotalMicroseconds / events,
            clientCpu.TotalMicroseconds / events,
            commits == 0 ? 0 : events / (double)commits);
    }

    /// <summary>The server's committed transactions so far, from its Prometheus endpoint.</summary>
    private static async Task<long> CommitsAsync(BridgeServerProcess server)
    {
        var metrics = await server.Client.GetStringAsync("/metrics");
        var line = metrics.Split('\n').FirstOrDefault(line => line.StartsWith("bridge_storage_transactions_total{", StringComparison.Ordinal) && line.Contains("kind=\"commit\"", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Writes <paramref name="events"/> event rows straight to storage, as sequential 100-entity transactions.</summary>
    private static async Task<Raw> RawAsync(TableClient table, AzuriteProcess azurite, int events, string data)
    {
        await table.CreateIfNotExistsAsync();
        var azuriteBefore = Measure.CpuTime(azurite.Process.Id);
        var elapsed = await IngestScenario.WriteRawAsync(table, StreamName.Parse(TestNames.Stream("raw")), events, Encoding.UTF8.GetBytes(data), withKeys: false);
        return new Raw(events / elapsed.TotalSeconds, (Measure.CpuTime(azurite.Process.Id) - azuriteBefore).TotalMicroseconds / events);
    }
}
