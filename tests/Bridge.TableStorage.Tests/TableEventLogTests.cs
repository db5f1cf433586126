using System.Text;
using Bridge.Events;
using Azure.Data.Tables;
using Bridge.DevKit;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// What the Table Storage log does beyond the contract every log keeps (<see cref="TableEventLogContractTests"/>): group
/// commit, transactions of 99 events, and a key window that survives restarts.
/// </summary>
public class TableEventLogTests : IAsyncLifetime
{
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    private TableEventLog NewLog(int windowEvents = 100_000) => EventLogs.Create(_azurite.ConnectionString, _table, windowEvents);

    [Fact]
    public async Task A_large_append_is_split_into_transactions_of_at_most_99_events_and_one_head()
    {
        await using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("many"));

        var results = await log.AppendAsync(stream, [.. Enumerable.Range(1, 250).Select(i => EventLogs.Text($"e{i}"))]);

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), results.Select(result => result.Id));
        var commits = await CountTransactionsAsync(stream);
        Assert.Equal(3, commits);
    }

    [Fact]
    public async Task Concurrent_appenders_in_one_process_get_gap_free_ids_and_share_transactions()
    {
        await using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("threads"));
        const int writers = 16;
        const int eventsEach = 25;

        var appended = await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var ids = new List<long>();
            for (var i = 0; i < eventsEach; i++)
            {
                ids.Add((await log.AppendAsync(stream, [EventLogs.Text($"w{writer}-{i}")]))[0].Id);
            }

            return ids;
        })));

        var total = writers * eventsEach;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), appended.SelectMany(ids => ids).Order());
        Assert.All(appended, ids => Assert.Equal(ids.Order(), ids));
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(total, stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)).Distinct().Count());
        Assert.True(await CountTransactionsAsync(stream) < total, "Concurrent single appends were committed together.");
    }

    [Fact]
    public async Task Keys_survive_a_restart_because_they_are_read_back_from_storage()
    {
        var stream = StreamName.Parse(TestNames.Stream("restart"));
        await using (var before = NewLog())
        {
            await before.AppendAsync(stream, [.. Enumerable.Range(1, 150).Select(i => EventLogs.Text($"e{i}", key: $"k{i}"))]);
        }

        await using var after = NewLog();
        var retried = await after.AppendAsync(stream, [EventLogs.Text("again", key: "k7"), EventLogs.Text("again", key: "k150")]);

        Assert.Equal([(7L, true), (150L, true)], retried.Select(result => (result.Id, result.IsDuplicate)));
        Assert.Equal(150, (await after.GetHeadAsync(stream)).LastId);
    }

    [Fact]
    public async Task A_key_older_than_the_window_is_stored_again_as_documented()
    {
        await using var log = NewLog(windowEvents: 100);
        var stream = StreamName.Parse(TestNames.Stream("window"));
        await log.AppendAsync(stream, [EventLogs.Text("old", key: "early")]);
        await log.AppendAsync(stream, [.. Enumerable.Range(1, 100).Select(i => EventLogs.Text($"filler {i}"))]);

        var late = await log.AppendAsync(stream, [EventLogs.Text("old", key: "early")]);

        Assert.Equal((102L, false), (late[0].Id, late[0].IsDuplicate));
    }

    [Fact]
    public async Task Stream_names_with_dots_and_colons_work_as_partition_keys()
    {
        await using var log = NewLog();
        var stream = StreamName.Parse($"tenant:acme.orders_{Guid.NewGuid():N}");

        await log.AppendAsync(stream, [EventLogs.Text("x")]);

        Assert.Equal(1, (await log.GetHeadAsync(stream)).LastId);
    }

    /// <summary>Counts commits by their token, written on the first row of each transaction.</summary>
    private async Task<int> CountTransactionsAsync(StreamName stream)
    {
        var table = new TableClient(_azurite.ConnectionString, _table);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{stream}' and Commit ne guid'00000000-0000-0000-0000-000000000000'", select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }
}
