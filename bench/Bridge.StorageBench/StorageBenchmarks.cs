using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Bridge.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.StorageBench;

/// <summary>
/// Allocations and time of one append call of 100 events and one read of 1,000 events through the log, beside the
/// raw SDK calls that do the same storage work, on Azurite. Every figure includes Azurite's round trips; compare
/// allocations, which are the client's alone.
/// </summary>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    public const string ConnectionVariable = "BRIDGE_BENCH_STORAGE";

    private readonly byte[] _data = new byte[200];
    private ServiceProvider _provider = null!;
    private IEventLog _log = null!;
    private TableClient _table = null!;
    private StreamName _appendStream;
    private long _rawId;

    // BenchmarkDotNet's in-process toolchain does not await asynchronous set-up and clean-up methods.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        var connection = Environment.GetEnvironmentVariable(ConnectionVariable) ?? throw new InvalidOperationException($"Set {ConnectionVariable}.");
        var tableName = "bdn" + Guid.NewGuid().ToString("N")[..12];
        _table = new TableServiceClient(connection).GetTableClient(tableName);
        await _table.CreateAsync();
        var services = new ServiceCollection().AddLogging();
        services.AddTableEventLog(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
            ["Storage:EventsTable"] = tableName,
        }).Build());
        _provider = services.BuildServiceProvider();
        _log = _provider.GetRequiredService<IEventLog>();
        _appendStream = StreamName.Parse("append-" + Guid.NewGuid().ToString("N"));
        for (var written = 0; written < 1_000; written += 99)
        {
            await _log.AppendAsync(StreamName.Parse("read"), [.. Enumerable.Range(0, Math.Min(99, 1_000 - written)).Select(_ => new NewEvent(EventType.Message, _data))]);
        }
    }

    private async Task CleanupAsync()
    {
        await _table.DeleteAsync();
        await _provider.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "raw: one transaction of 100 rows")]
    public async Task RawTransactionOf100()
    {
        var transaction = new List<TableTransactionAction>(100);
        for (var i = 0; i < 100; i++)
        {
            transaction.Add(new TableTransactionAction(TableTransactionActionType.Add, RawRow.Event("raw", ++_rawId, _data)));
        }

        await _table.SubmitTransactionAsync(transaction);
    }

    [Benchmark(Description = "Bridge: append of 99 events with keys")]
    public Task AppendOf99() =>
        _log.AppendAsync(_appendStream, [.. Enumerable.Range(0, 99).Select(_ => new NewEvent(EventType.Message, _data, IdempotencyKey.Parse(Guid.NewGuid().ToString())))]);

    [Benchmark(Description = "raw: one page of 1,000 rows")]
    public async Task<int> RawPageOf1000()
    {
        var rows = 0;
        await foreach (var page in _table.QueryAsync<RawRow>("PartitionKey eq 'read' and RowKey lt 'head'", maxPerPage: 1000).AsPages())
        {
            rows += page.Values.Count;
        }

        return rows;
    }

    [Benchmark(Description = "Bridge: read of 1,000 events")]
    public async Task<int> ReadOf1000()
    {
        var events = 0;
        await foreach (var page in _log.ReadAsync(StreamName.Parse("read"), 0, 1_000))
        {
            events += page.Count;
        }

        return events;
    }
}
