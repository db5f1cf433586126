using System.Diagnostics;
using Bridge.Events;
using Bridge.TableStorage;
using Azure.Data.Tables;
using Bridge.DevKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Target 1: events/s through the batched append on one stream, against the raw rate of writing the same entities
/// as 100-entity transactions to the same Azurite, and the entities written per event. Rates are timed directly
/// against Azurite; entities are counted in a separate, untimed pass through a relay that counts the operations in
/// every transaction body, because the relay's own cost would distort the timing.
/// </summary>
internal static class IngestScenario
{
    private static readonly (string Name, int Appenders, int Streams)[] Configurations =
    [
        ("1 appender, 1 stream", 1, 1),
        ("8 appenders, 1 stream", 8, 1),
        ("64 appenders, 1 stream", 64, 1),
        ("64 appenders, 64 streams", 64, 64),
    ];

    /// <summary>Per configuration: the median ratio to the baseline, and entities written per event.</summary>
    public sealed record Result(IReadOnlyDictionary<string, (double Ratio, double EntitiesPerEvent)> Configurations);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var events = options.Int("ingest-events", 30_000);
        var dataBytes = options.Int("data-bytes", 200);
        var callSize = options.Int("call-size", 500);
        var rounds = options.Int("ingest-rounds", 5);

        await using var azurite = await AzuriteProcess.StartAsync();
        var connection = azurite.ConnectionString;
        var data = new byte[dataBytes];
        Array.Fill(data, (byte)'x');

        report.Progress($"Ingest: {events} events of {dataBytes} bytes, calls of up to {callSize}, {rounds} rounds");
        await RawAsync(connection, 1_000, data);
        await BridgeAsync(connection, 1, 1, 1_000, callSize, data);

        // Each Bridge measurement is bracketed by raw ones just before and just after it, and compared with their mean,
        // so the drift of the machine (Azurite's speed varies by a third from one run to the next here) affects both
        // sides of every ratio alike.
        var raw = new List<double>();
        var bridge = Configurations.ToDictionary(c => c.Name, _ => new List<(double Rate, double Ratio)>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, appenders, streams) in Configurations)
            {
                var rawBefore = events / (await RawAsync(connection, events, data)).TotalSeconds;
                var rate = Appended(events, appenders) / (await BridgeAsync(connection, appenders, streams, events, callSize, data)).TotalSeconds;
                var rawAfter = events / (await RawAsync(connection, events, data)).TotalSeconds;
                var rawRate = (rawBefore + rawAfter) / 2;
                raw.Add(rawBefore);
                raw.Add(rawAfter);
                bridge[name].Add((rate, rate / rawRate));
                report.Progress($"  round {round}: {name}: {rate:F0} events/s against raw {rawRate:F0}/s ({rate / rawRate:F2})");
            }
        }

        var entitiesPerEvent = new Dictionary<string, double>();
        await using (var relay = TcpRelay.Start(azurite.Port))
        {
            var operations = relay.Count("Content-Type: application/http");
            foreach (var (name, appenders, streams) in Configurations)
            {
                var before = operations.Value;
                await BridgeAsync(AzuriteProcess.ConnectionStringFor(relay.Port), appenders, streams, events, callSize, data);
                entitiesPerEvent[name] = (operations.Value - before) / (double)Appended(events, appenders);
                report.Progress($"  counted: {name}: {entitiesPerEvent[name]:F3} entities/event");
            }
        }

        report.Heading("Target 1 — ingest");
        report.Line($"{events} events of {dataBytes} bytes per measurement, appended in calls of up to {callSize} events (a Service Bus batch), each measurement on a fresh table; {rounds} rounds.");
        report.Line($"Baseline, same run: the same entities written directly as 100-entity transactions to one partition, measured just before and just after each Bridge measurement: median **{Median(raw):F0} entities/s** (range {raw.Min():F0}–{raw.Max():F0}).");
        report.Line("");
        report.Table(
            ["Configuration", "Events/s (median)", "× baseline around it, median (target ≥ 0.8)", "Entities written per event (target ≤ 1.05)", "Met"],
            Configurations.Select(c =>
            {
                var ratio = Median(bridge[c.Name].Select(r => r.Ratio));
                var entities = entitiesPerEvent[c.Name];

                // The throughput target is for one stream; for many streams it is reported, and only the entity count is a target.
                var met = (c.Streams > 1 || ratio >= 0.8) && entities <= 1.05;
                var verdict = met ? (c.Streams > 1 ? "yes (ratio reported)" : "yes") : "**no**";
                return new[] { c.Name, $"{Median(bridge[c.Name].Select(r => r.Rate)):F0}", $"{ratio:F2}", $"{entities:F3}", verdict };
            }));
        return new Result(Configurations.ToDictionary(c => c.Name, c => (Median(bridge[c.Name].Select(r => r.Ratio)), entitiesPerEvent[c.Name])));
    }

    /// <summary>Writes <paramref name="count"/> event-shaped entities as sequential 100-entity transactions.</summary>
    private static async Task<TimeSpan> RawAsync(string connection, int count, byte[] data)
    {
        var table = await FreshTableAsync(connection);
        var stream = StreamName.Parse("raw-" + Guid.NewGuid().ToString("N"));
        var elapsed = await WriteRawAsync(table, stream, count, data, withKeys: true);
        await table.DeleteAsync();
        return elapsed;
    }

    /// <summary>
    /// Writes <paramref name="count"/> event rows to <paramref name="stream"/> as sequential 100-entity transactions, each
    /// with an idempotency key when <paramref name="withKeys"/>, as the events they are compared with have.
    /// </summary>
    internal static async Task<TimeSpan> WriteRawAsync(TableClient table, StreamName stream, int count, byte[] data, bool withKeys)
    {
        var started = Stopwatch.StartNew();
        for (var first = 1; first <= count; first += 100)
        {
            var transaction = new List<TableTransactionAction>(100);
            for (var id = first; id < first + 100 && id <= count; id++)
            {
                var newEvent = new NewEvent(EventType.Message, data, withKeys ? IdempotencyKey.Parse(Guid.NewGuid().ToString()) : null);
                transaction.Add(new TableTransactionAction(TableTransactionActionType.Add, EventRows.Encode(stream, id, newEvent, DateTimeOffset.UtcNow, null)));
            }

            await table.SubmitTransactionAsync(transaction);
        }

        return started.Elapsed;
    }

    /// <summary>How many events <see cref="BridgeAsync"/> appends: an equal share for each appender.</summary>
    private static int Appended(int count, int appenders) => count / appenders * appenders;

    /// <summary>Appends about <paramref name="count"/> events with keys, split equally among appenders (and streams).</summary>
    private static async Task<TimeSpan> BridgeAsync(string connection, int appenders, int streams, int count, int callSize, byte[] data)
    {
        var table = await FreshTableAsync(connection);
        var elapsed = await AppendAsync(new TableServiceClient(connection), table, appenders, streams, count, callSize, data);
        await table.DeleteAsync();
        return elapsed;
    }

    private static async Task<TimeSpan> AppendAsync(TableServiceClient account, TableClient table, int appenders, int streams, int count, int callSize, byte[] data)
    {
        await using var log = new TableEventLog(
            account,
            Microsoft.Extensions.Options.Options.Create(new TableEventLogOptions { EventsTable = table.Name }),
            TimeProvider.System,
            NullLogger<TableEventLog>.Instance, new Bridge.Telemetry.BridgeMetrics());
        var names = Enumerable.Range(0, streams).Select(_ => StreamName.Parse("bench-" + Guid.NewGuid().ToString("N"))).ToArray();
        var perAppender = count / appenders;
        var started = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, appenders).Select(appender => Task.Run(async () =>
        {
            var stream = names[appender % streams];
            for (var done = 0; done < perAppender; done += callSize)
            {
                var batch = Enumerable.Range(0, Math.Min(callSize, perAppender - done))
                    .Select(_ => new NewEvent(EventType.Message, data, IdempotencyKey.Parse(Guid.NewGuid().ToString())))
                    .ToList();
                await log.AppendAsync(stream, batch);
            }
        })));
        return started.Elapsed;
    }

    /// <summary>
    /// An empty table for each measurement, deleted after it: Azurite keeps everything in memory and slows down as
    /// it grows, which would otherwise penalise whichever measurement runs later.
    /// </summary>
    private static async Task<TableClient> FreshTableAsync(string connection)
    {
        var table = new TableClient(connection, "ingest" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
