using System.Text;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Events;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Storage that loses acknowledged events (a restored backup, a deleted table, an emulator killed before it saved):
/// the writer must not hand the lost ids to new events under the same name, or clients holding the lost events could
/// never tell that the events now stored under those ids are different ones.
/// </summary>
public class RegressedHistoryTests : IAsyncLifetime
{
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    [Fact]
    public async Task A_writer_that_finds_events_it_committed_gone_starts_a_new_epoch_before_reusing_their_ids()
    {
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table);
        var stream = StreamName.Parse(TestNames.Stream("restored"));
        var first = await log.AppendAsync(stream, [.. Enumerable.Range(1, 10).Select(i => EventLogs.Text($"e{i}", key: $"k{i}"))]);
        var original = first[0].Epoch;

        await RestoreAsOfAsync(stream, lastId: 6);
        var after = await log.AppendAsync(stream, [EventLogs.Text("new", key: "new"), EventLogs.Text("e9 again", key: "k9"), EventLogs.Text("e3 again", key: "k3")]);

        // Ids 7 and 8 are issued again, but in a new epoch that names the old one and where the two part.
        Assert.Equal([(7L, false), (8L, false), (3L, true)], after.Select(result => (result.Id, result.IsDuplicate)));
        Assert.All(after, result => Assert.NotEqual(original, result.Epoch));
        var head = await log.GetHeadAsync(stream);
        Assert.Equal(new StreamHead(8, new StreamEpoch(after[0].Epoch, original, ReplacedFrom: 7)), head);

        // Another process reads the same history.
        await using var other = EventLogs.Create(_azurite.ConnectionString, _table);
        Assert.Equal(head, await other.GetHeadAsync(stream));
        Assert.Equal(
            ["e1", "e2", "e3", "e4", "e5", "e6", "new", "e9 again"],
            (await EventLogs.ReadAllAsync(other, stream)).Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task A_producer_retrying_only_events_storage_lost_gets_them_stored_not_called_duplicates()
    {
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table);
        var stream = StreamName.Parse(TestNames.Stream("retried"));
        await log.AppendAsync(stream, [.. Enumerable.Range(1, 4).Select(i => EventLogs.Text($"e{i}", key: $"k{i}"))]);

        await RestoreAsOfAsync(stream, lastId: 2);
        var retried = await log.AppendAsync(stream, [EventLogs.Text("e4", key: "k4")]);
        var again = await log.AppendAsync(stream, [EventLogs.Text("e2", key: "k2")]);

        Assert.Equal((3L, false), (retried[0].Id, retried[0].IsDuplicate));
        Assert.Equal((2L, true), (again[0].Id, again[0].IsDuplicate));
        Assert.Equal(["e1", "e2", "e4"], (await EventLogs.ReadAllAsync(log, stream)).Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_table_deleted_and_created_again_starts_a_new_epoch_with_nothing_in_common(bool createdByOthers)
    {
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table);
        var stream = StreamName.Parse(TestNames.Stream("recreated"));
        var original = (await log.AppendAsync(stream, [.. Enumerable.Range(1, 5).Select(i => EventLogs.Text($"e{i}"))]))[0].Epoch;

        var table = new TableClient(_azurite.ConnectionString, _table);
        await table.DeleteAsync();
        if (createdByOthers)
        {
            await table.CreateAsync();
        }

        var results = await log.AppendAsync(stream, [EventLogs.Text("a"), EventLogs.Text("b")]);

        Assert.Equal([1L, 2], results.Select(result => result.Id));
        var head = await log.GetHeadAsync(stream);
        Assert.Equal(2, head.LastId);
        Assert.NotEqual(original, head.Epoch.Id);
        Assert.Null(head.Epoch.ParentId);
        Assert.Equal(results[0].Epoch, head.Epoch.Id);
    }

    [Fact]
    public async Task A_stream_created_by_two_writers_at_once_has_the_one_epoch_of_the_writer_that_won()
    {
        await using var one = EventLogs.Create(_azurite.ConnectionString, _table);
        await using var two = EventLogs.Create(_azurite.ConnectionString, _table);
        var stream = StreamName.Parse(TestNames.Stream("born"));

        var results = await Task.WhenAll(
            Task.Run(() => one.AppendAsync(stream, [EventLogs.Text("one")])),
            Task.Run(() => two.AppendAsync(stream, [EventLogs.Text("two")])));

        var head = await one.GetHeadAsync(stream);
        Assert.Equal(2, head.LastId);
        Assert.Null(head.Epoch.ParentId);
        Assert.All(results, result => Assert.Equal(head.Epoch.Id, result[0].Epoch));
    }

    /// <summary>What restoring a backup taken at <paramref name="lastId"/> does: later rows gone, the head as it was.</summary>
    private async Task RestoreAsOfAsync(StreamName stream, long lastId)
    {
        var table = new TableClient(_azurite.ConnectionString, _table);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {stream.Value} and RowKey gt {lastId.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)} and RowKey lt {"head"}")))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var head = (await table.GetEntityAsync<TableEntity>(stream.Value, "head")).Value;
        head["LastId"] = lastId;
        await table.UpdateEntityAsync(head, head.ETag, TableUpdateMode.Replace);
    }
}
