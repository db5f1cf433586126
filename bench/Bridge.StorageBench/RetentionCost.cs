using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Bridge.LoadHarness;
using Bridge.TableStorage;
using Bridge.TableStorage.Retention;
using Bridge.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.StorageBench;

/// <summary>
/// What retention costs storage: the pruner removing a stream's old events, against raw batch deletes of the same
/// rows in the same run, with the requests it makes per pruned event, and what a round costs when there is nothing
/// to prune.
/// </summary>
internal static class RetentionCost
{
    private const int IdleRounds = 10;

    public static async Task<int> RunAsync(Options options)
    {
        var connection = options.Required("connection");
        var events = options.Int("events", 20_000);
        var keep = options.Int("keep", 1_000);
        var rounds = options.Int("rounds", 3);
        var account = new TableServiceClient(connection);
        var data = new byte[200];
        Array.Fill(data, (byte)'x');

        Console.WriteLine($"| Round | Raw batch deletes, events/s | Pruner, events/s | × raw | Pruning rounds | Requests per pruned event | Requests per idle round |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (var round = 1; round <= rounds; round++)
        {
            var table = account.GetTableClient("prune" + Guid.NewGuid().ToString("N")[..12]);
            await table.CreateAsync();
            try
            {
                var raw = await RawDeleteAsync(table, events, data);
                var (pruned, rate, pruneRounds, perEvent, perIdleRound) = await PruneAsync(connection, table.Name, events, keep, data);
                Console.WriteLine($"| {round} | {raw:F0} | {rate:F0} | {rate / raw:F2} | {pruneRounds} | {perEvent:F4} ({pruned} pruned) | {perIdleRound:F1} |");
            }
            finally
            {
                await table.DeleteAsync();
            }
        }

        return 0;
    }

    /// <summary>Writes <paramref name="events"/> rows raw, then deletes them raw: paged key queries and 100-delete transactions.</summary>
    private static async Task<double> RawDeleteAsync(TableClient table, int events, byte[] data)
    {
        for (var first = 1; first <= events; first += 100)
        {
            await table.SubmitTransactionAsync(Enumerable.Range(first, Math.Min(100, events - first + 1))
                .Select(id => new TableTransactionAction(TableTransactionActionType.Add, RawRow.Event("raw", id, data))));
        }

        var started = Stopwatch.GetTimestamp();
        var batch = new List<TableTransactionAction>(100);
        await foreach (var page in table.QueryAsync<TableEntity>("PartitionKey eq 'raw'", 1000, ["RowKey"]).AsPages())
        {
            foreach (var row in page.Values)
            {
                batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity("raw", row.RowKey), ETag.All));
                if (batch.Count == 100)
                {
                    await table.SubmitTransactionAsync(batch);
                    batch.Clear();
                }
            }
        }

        if (batch.Count > 0)
        {
            await table.SubmitTransactionAsync(batch);
        }

        return events / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<(long Pruned, double PerSecond, int Rounds, double RequestsPerEvent, double RequestsPerIdleRound)> PruneAsync(
        string connection, string table, int events, int keep, byte[] data)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
            ["Storage:EventsTable"] = table,
            ["Storage:IdempotencyWindowEvents"] = $"{keep}",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddTableEventLog(configuration);
        await using var provider = services.BuildServiceProvider();
        var log = provider.GetRequiredService<TableEventLog>();
        var stream = StreamName.Parse("bridge");
        for (var written = 0; written < events; written += IEventLog.MaxAtomicEvents)
        {
            await log.AppendAsync(stream, [.. Enumerable.Range(written, Math.Min(IEventLog.MaxAtomicEvents, events - written))
                .Select(n => new NewEvent(EventType.Message, data, IdempotencyKey.Parse($"key-{n}")))]);
        }

        using var requests = new RequestCount(provider.GetRequiredService<BridgeMetrics>());
        var rule = new RetentionRule(keep, TimeSpan.Zero);
        var started = Stopwatch.GetTimestamp();
        long pruned = 0;
        var rounds = 0;
        while (pruned < events - keep && rounds < 100)
        {
            pruned += await log.PruneAsync(stream, rule, CancellationToken.None);
            rounds++;
        }

        var perSecond = pruned / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var busyRequests = requests.Total;
        for (var idle = 0; idle < IdleRounds; idle++)
        {
            await log.PruneAsync(stream, rule, CancellationToken.None);
        }

        return (pruned, perSecond, rounds, busyRequests / (double)Math.Max(1, pruned), (requests.Total - busyRequests) / (double)IdleRounds);
    }

    /// <summary>Every request the event log counts in <c>bridge.storage.transactions</c>.</summary>
    private sealed class RequestCount : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public RequestCount(BridgeMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument == metrics.StorageTransactions)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
