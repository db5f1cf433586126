using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using Bridge.LoadHarness;

namespace Bridge.StorageBench;

/// <summary>One round of ingest and replay, Bridge's event log against the raw SDK calls that do the same storage work.</summary>
/// <param name="Label">Which build measured it.</param>
/// <param name="IngestRaw">100-entity transactions written directly: the mean of one just before and one just after Bridge.</param>
/// <param name="IngestBridge">Appends in calls of 500 events with idempotency keys, through the log.</param>
/// <param name="EntitiesPerEvent">Entities Bridge wrote per event: events plus one head row per transaction.</param>
/// <param name="ReplayRaw">Paged queries of 1,000 rows, straight from the SDK.</param>
/// <param name="ReplayBridge">The same rows through <c>IEventLog.ReadAsync</c>.</param>
internal sealed record Measurement(string Label, Cost IngestRaw, Cost IngestBridge, double EntitiesPerEvent, Cost ReplayRaw, Cost ReplayBridge)
{
    private const int TransactionSize = 100;
    private const int CallSize = 500;

    public static async Task<Measurement> RunAsync(Options options)
    {
        var connection = options.Required("connection");
        var events = options.Int("events", 20_000);
        var replayEvents = options.Int("replay-events", 20_000);
        var data = new byte[options.Int("data-bytes", 200)];
        Array.Fill(data, (byte)'x');
        var account = new TableServiceClient(connection);

        // Warm-up: the first calls of a fresh process pay for JIT compilation and connection set-up.
        await WithTableAsync(account, table => RawIngestAsync(table, 2_000, data));
        await WithTableAsync(account, table => BridgeIngestAsync(connection, table, 2_000, data));
        await WithTableAsync(account, table => ReplayAsync(connection, table, 2_000, data));

        var rawBefore = await WithTableAsync(account, table => RawIngestAsync(table, events, data));
        var (bridge, entities) = await WithTableAsync(account, table => BridgeIngestAsync(connection, table, events, data));
        var rawAfter = await WithTableAsync(account, table => RawIngestAsync(table, events, data));

        var (replayRaw, replayBridge) = await WithTableAsync(account, table => ReplayAsync(connection, table, replayEvents, data));
        return new Measurement(options.Text("label") ?? "this build", Mean(rawBefore, rawAfter), bridge, entities, replayRaw, replayBridge);
    }

    private static async Task<Cost> RawIngestAsync(TableClient table, int events, byte[] data)
    {
        var meter = new CostMeter();
        for (var first = 1; first <= events; first += TransactionSize)
        {
            var transaction = new List<TableTransactionAction>(TransactionSize);
            for (var id = first; id < first + TransactionSize && id <= events; id++)
            {
                transaction.Add(new TableTransactionAction(TableTransactionActionType.Add, RawRow.Event("raw", id, data)));
            }

            await table.SubmitTransactionAsync(transaction);
        }

        return meter.Stop(events);
    }

    private static async Task<(Cost Cost, double EntitiesPerEvent)> BridgeIngestAsync(string connection, TableClient table, int events, byte[] data)
    {
        await using var provider = EventLog(connection, table.Name);
        var log = provider.GetRequiredService<IEventLog>();
        var stream = StreamName.Parse("bridge");
        var calls = Enumerable.Range(0, (events + CallSize - 1) / CallSize)
            .Select(call => Enumerable.Range(0, Math.Min(CallSize, events - (call * CallSize)))
                .Select(_ => new NewEvent(EventType.Message, data, IdempotencyKey.Parse(Guid.NewGuid().ToString())))
                .ToList())
            .ToList();

        var meter = new CostMeter();
        foreach (var call in calls)
        {
            await log.AppendAsync(stream, call);
        }

        var cost = meter.Stop(events);

        // Each transaction writes a commit token on its first row and rewrites the head row.
        var transactions = await table.QueryAsync<TableEntity>(
            $"PartitionKey eq 'bridge' and Commit ne guid'00000000-0000-0000-0000-000000000000'", select: ["RowKey"]).CountAsync();
        return (cost, (events + transactions) / (double)events);
    }

    /// <summary>Writes the rows once through the log, then reads them alternately raw and through the log, 3 times each.</summary>
    private static async Task<(Cost Raw, Cost Bridge)> ReplayAsync(string connection, TableClient table, int events, byte[] data)
    {
        await using var provider = EventLog(connection, table.Name);
        var log = provider.GetRequiredService<IEventLog>();
        var stream = StreamName.Parse("replay");
        for (var written = 0; written < events; written += 99)
        {
            await log.AppendAsync(stream, [.. Enumerable.Range(0, Math.Min(99, events - written)).Select(_ => new NewEvent(EventType.Message, data))]);
        }

        var raw = new List<Cost>();
        var bridge = new List<Cost>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {"replay"} and RowKey gt {0L.ToString("D19", null)} and RowKey le {((long)events).ToString("D19", null)}");
        for (var round = 0; round < 3; round++)
        {
            var meter = new CostMeter();
            long rows = 0;
            await foreach (var page in table.QueryAsync<RawRow>(filter, maxPerPage: 1000).AsPages())
            {
                rows += page.Values.Count;
            }

            raw.Add(meter.Stop(rows));
            meter = new CostMeter();
            long read = 0;
            await foreach (var page in log.ReadAsync(stream, 0, events))
            {
                read += page.Count;
            }

            bridge.Add(meter.Stop(read));
        }

        return (Median(raw), Median(bridge));
    }

    private static ServiceProvider EventLog(string connection, string table)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
            ["Storage:EventsTable"] = table,
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddTableEventLog(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on an empty table and deletes the table afterwards: Azurite keeps everything in
    /// memory and slows down as it grows, which would otherwise penalise whichever measurement runs later.
    /// </summary>
    private static async Task<T> WithTableAsync<T>(TableServiceClient account, Func<TableClient, Task<T>> work)
    {
        var table = account.GetTableClient("bench" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateAsync();
        try
        {
            return await work(table);
        }
        finally
        {
            await table.DeleteAsync();
        }
    }

    private static Cost Mean(Cost a, Cost b) =>
        new((a.PerSecond + b.PerSecond) / 2, (a.CpuMicroseconds + b.CpuMicroseconds) / 2, (a.AllocatedBytes + b.AllocatedBytes) / 2);

    internal static Cost Median(IReadOnlyList<Cost> costs) => new(
        Median(costs.Select(cost => cost.PerSecond)),
        Median(costs.Select(cost => cost.CpuMicroseconds)),
        Median(costs.Select(cost => cost.AllocatedBytes)));

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

/// <summary>An event row as a raw SDK user would write it: the same properties Bridge writes.</summary>
internal sealed class RawRow : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string? Key { get; set; }

    public BinaryData? Data0 { get; set; }

    public DateTimeOffset StoredAt { get; set; }

    public static RawRow Event(string stream, long id, byte[] data) => new()
    {
        PartitionKey = stream,
        RowKey = id.ToString("D19", System.Globalization.CultureInfo.InvariantCulture),
        Key = Guid.NewGuid().ToString(),
        Data0 = new BinaryData(data),
        StoredAt = DateTimeOffset.UtcNow,
    };
}
