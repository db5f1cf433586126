using System.Diagnostics;
using System.Text;
using Bridge.Events;
using Bridge.TableStorage;
using Azure.Data.Tables;
using Bridge.DevKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Target 2: events/s delivered to one SSE client reading a whole stream from cursor 0, against the raw rate of
/// paging through the same rows with the same Table client.
/// </summary>
internal static class ReplayScenario
{
    /// <summary>Events/s of the baseline and of Bridge, medians.</summary>
    public sealed record Result(double RawRate, double BridgeRate);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var events = options.Int("replay-events", 100_000);
        var dataBytes = options.Int("data-bytes", 100);
        var rounds = options.Int("replay-rounds", 3);

        await using var azurite = await AzuriteProcess.StartAsync();
        var stream = StreamName.Parse("replay");
        var table = new TableClient(azurite.ConnectionString, "BridgeEvents");
        await using (var log = new TableEventLog(
                   new TableServiceClient(azurite.ConnectionString),
                   Microsoft.Extensions.Options.Options.Create(new TableEventLogOptions()),
                   TimeProvider.System,
                   NullLogger<TableEventLog>.Instance, new Bridge.Telemetry.BridgeMetrics()))
        {
            report.Progress($"Replay: writing {events} events of {dataBytes} bytes");
            var data = Encoding.UTF8.GetBytes(new string('r', dataBytes));
            for (var written = 0; written < events; written += 990)
            {
                await log.AppendAsync(stream, [.. Enumerable.Range(0, Math.Min(990, events - written)).Select(_ => new NewEvent(EventType.Message, data))]);
                if ((written / 990) % 20 == 0)
                {
                    report.Progress($"  {written} written");
                }
            }
        }

        await using var server = await BridgeServerProcess.StartAsync(assembly: options.Text("server-assembly"), settings: new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "3600",
        });

        var raw = new List<double>();
        var bridge = new List<double>();
        await ReadSseAsync(server.Client, stream, Math.Min(events, 5_000));
        for (var round = 1; round <= rounds; round++)
        {
            var started = Stopwatch.StartNew();
            var rows = 0;
            await foreach (var page in table.QueryAsync<EventEntity>(EventRows.RangeFilter(stream, 0, events), AzureTableLimits.MaxPageSize).AsPages())
            {
                rows += page.Values.Count;
            }

            raw.Add(rows / started.Elapsed.TotalSeconds);
            var elapsed = await ReadSseAsync(server.Client, stream, events);
            bridge.Add(events / elapsed.TotalSeconds);
            report.Progress($"  round {round}: raw query {raw[^1]:F0} rows/s, SSE replay {bridge[^1]:F0} events/s");
        }

        var rawRate = IngestScenario.Median(raw);
        var bridgeRate = IngestScenario.Median(bridge);
        report.Heading("Target 2 — replay");
        report.Line($"One SSE client reads a {events}-event stream ({dataBytes}-byte events) from cursor 0 through a separate server process; median of {rounds} rounds.");
        report.Table(
            ["Measure", "Events/s"],
            [
                ["Baseline, same run: the same rows paged with the Table client (1,000 per page)", $"{rawRate:F0}"],
                ["Bridge: SSE replay over HTTP", $"{bridgeRate:F0}"],
                ["Ratio (target ≥ 0.8)", $"{bridgeRate / rawRate:F2} — {(bridgeRate / rawRate >= 0.8 ? "met" : "**not met**")}"],
            ]);
        return new Result(rawRate, bridgeRate);
    }

    /// <summary>Reads an SSE response from cursor 0 until the block of the last event has arrived.</summary>
    private static async Task<TimeSpan> ReadSseAsync(HttpClient client, StreamName stream, int lastId)
    {
        var started = Stopwatch.StartNew();
        using var response = await client.GetAsync($"/api/streams/{stream}/events?lastEventId=0", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var end = Encoding.ASCII.GetBytes($"id: {lastId}."); // then the stream's epoch
        var buffer = new byte[256 * 1024];
        var carried = 0;
        var ids = 0;
        while (true)
        {
            var read = await body.ReadAsync(buffer.AsMemory(carried));
            if (read == 0)
            {
                throw new InvalidOperationException($"The replay ended after {ids} events.");
            }

            var span = buffer.AsSpan(0, carried + read);
            ids += Count(span[carried..], "\nid: "u8);
            if (span.IndexOf(end) >= 0)
            {
                return started.Elapsed;
            }

            carried = Math.Min(end.Length, span.Length);
            span[^carried..].CopyTo(buffer);
        }
    }

    private static int Count(ReadOnlySpan<byte> span, ReadOnlySpan<byte> pattern)
    {
        var count = 0;
        for (var at = span.IndexOf(pattern); at >= 0; at = span.IndexOf(pattern))
        {
            count++;
            span = span[(at + pattern.Length)..];
        }

        return count;
    }
}
