using System.Diagnostics;
using System.Text;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Events;
using Bridge.TableStorage;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Rival writers: 1, 2 and 4 server processes appending to one stream, as scaled-out Functions instances do, with the
/// same publishers spread evenly over them. Events per second and each publish's latency, and whether every publish
/// succeeded and the stream came out gap-free.
/// </summary>
internal static class WritersScenario
{
    private static readonly int[] WriterCounts = [1, 2, 4];

    public sealed record Result(IReadOnlyDictionary<int, double> RatioToOneWriter, bool AllGapFree);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var events = options.Int("writers-events", 10_000);
        var publishers = options.Int("writers-publishers", 128);
        var rounds = options.Int("writers-rounds", 3);

        await using var azurite = await AzuriteProcess.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Limits__PublishRequestsPerSecond"] = "1000000",
            ["Limits__PublishBurst"] = "1000000",
        };
        var servers = new List<BridgeServerProcess>();
        for (var i = 0; i < WriterCounts.Max(); i++)
        {
            servers.Add(await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly")));
        }

        try
        {
            report.Progress($"Writers: {events} single-event publishes per measurement from {publishers} publishers, {rounds} rounds");
            foreach (var count in WriterCounts)
            {
                await PublishAsync(azurite.ConnectionString, servers[..count], publishers, Math.Min(events, 1_000));
            }

            report.Progress("  warmed up");

            var measured = WriterCounts.ToDictionary(count => count, _ => new List<Measurement>());
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var count in WriterCounts)
                {
                    var measurement = await PublishAsync(azurite.ConnectionString, servers[..count], publishers, events);
                    measured[count].Add(measurement);
                    report.Progress($"  round {round}: {count} writer(s): {measurement.Rate:F0} events/s, publish p99 {measurement.P99:F0} ms, failed {measurement.Failed}, gap-free {measurement.GapFree}{(measurement.FirstFailure is { } first ? $"; first failure: {first}" : "")}");
                }
            }

            var oneWriter = measured[1].Select(m => m.Rate).ToList();
            var ratios = WriterCounts.ToDictionary(
                count => count,
                count => IngestScenario.Median(measured[count].Select((m, round) => m.Rate / oneWriter[round])));
            report.Heading("Rival writers — one stream, several processes");
            report.Line($"{events} single-event publishes per measurement from {publishers} concurrent publishers, spread evenly over the writer processes, all on one stream; {rounds} rounds, each ratio taken within its round.");
            report.Line("");
            report.Table(
                ["Writer processes", "Events/s (median)", "× one writer (median)", "Publish p50", "Publish p99 (median)", "Failed publishes", "Gap-free, each once", "Target"],
                [.. WriterCounts.Select(count => new[]
                {
                    $"{count}",
                    $"{IngestScenario.Median(measured[count].Select(m => m.Rate)):F0}",
                    $"{ratios[count]:F2}",
                    $"{IngestScenario.Median(measured[count].Select(m => m.P50)):F1} ms",
                    $"{IngestScenario.Median(measured[count].Select(m => m.P99)):F0} ms",
                    $"{measured[count].Sum(m => m.Failed)}",
                    measured[count].All(m => m.GapFree) ? "yes" : "**no**",
                    count == 2 ? (ratios[2] >= 0.8 ? "≥ 0.8: yes" : "≥ 0.8: **no**") : "",
                })]);
            return new Result(ratios, measured.Values.All(list => list.All(m => m.GapFree)));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private sealed record Measurement(double Rate, double P50, double P99, int Failed, bool GapFree, string? FirstFailure);

    /// <summary>Publishes <paramref name="events"/> single events to a fresh stream, publishers spread over the servers.</summary>
    private static async Task<Measurement> PublishAsync(string storage, List<BridgeServerProcess> servers, int publishers, int events)
    {
        var stream = TestNames.Stream("writers");
        var latencies = new List<double>();
        var failed = 0;
        string? firstFailure = null;
        var next = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(publisher => Task.Run(async () =>
        {
            var client = servers[publisher % servers.Count].Client;
            while (Interlocked.Increment(ref next) is var n && n <= events)
            {
                var sent = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync($"/api/streams/{stream}/events", new StringContent($"event {n}"));
                var took = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                var failure = response.IsSuccessStatusCode ? null : $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                lock (latencies)
                {
                    latencies.Add(took);
                    failed += failure is null ? 0 : 1;
                    firstFailure ??= failure;
                }
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started);
        latencies.Sort();
        return new Measurement(
            (events - failed) / elapsed.TotalSeconds,
            Measure.Percentile(latencies, 50),
            Measure.Percentile(latencies, 99),
            failed,
            await IsGapFreeAsync(storage, stream, events - failed, events),
            firstFailure);
    }

    /// <summary>
    /// Reads the stream from storage and checks that its ids run 1..n with each publish's data at most once, and that
    /// it holds every publish that succeeded (one that failed may have been stored all the same, as its answer says).
    /// </summary>
    private static async Task<bool> IsGapFreeAsync(string storage, string stream, int succeeded, int published)
    {
        var table = new TableClient(storage, new TableEventLogOptions().EventsTable);
        var rows = new List<(long Id, string Data)>();
        await foreach (var row in table.QueryAsync<EventEntity>(EventRows.RangeFilter(StreamName.Parse(stream), 0, long.MaxValue)))
        {
            rows.Add((EventRows.IdOf(row), Encoding.UTF8.GetString(EventRows.Decode(row).Data.Span)));
        }

        return rows.Select(row => row.Id).SequenceEqual(Enumerable.Range(1, rows.Count).Select(i => (long)i))
            && rows.Select(row => row.Data).Distinct().Count() == rows.Count
            && rows.Count >= succeeded && rows.Count <= published;
    }
}
