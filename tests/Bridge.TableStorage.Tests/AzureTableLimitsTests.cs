using Azure.Data.Tables;
using Bridge.Events;
using Bridge.DevKit;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Azure's limits, enforced locally by <see cref="BoundedTransaction"/>, and the SDK behaviour the log relies on, on
/// real Azurite: where Azurite is laxer than Azure, the helper must refuse before anything is sent.
/// </summary>
public class AzureTableLimitsTests : IAsyncLifetime
{
    /// <summary>The longest list of rival writers a head row holds, so that the head is as large as it gets.</summary>
    private static readonly string LongestWriterList = new('w', WriterTurns.MaxListLength);

    private readonly StreamName _stream = StreamName.Parse(TestNames.Stream("limits"));
    private AzuriteProcess _azurite = null!;
    private TableClient _table = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.Shared;
        _table = new TableClient(_azurite.ConnectionString, TestNames.Table());
        await _table.CreateIfNotExistsAsync();
    }

    public Task DisposeAsync() => _table.DeleteAsync();

    [Fact]
    public async Task A_transaction_of_99_events_and_a_head_commits_and_returns_the_heads_etag()
    {
        var transaction = new BoundedTransaction(_stream.Value, _table.Uri);
        for (var id = 1; id <= 99; id++)
        {
            Assert.True(transaction.TryAddInsert(Row(id, "x"), reserveOperations: 1, reserveBytes: transaction.HeadCost));
        }

        Assert.False(transaction.TryAddInsert(Row(100, "x"), reserveOperations: 1, reserveBytes: 0));
        var headIndex = transaction.AddHead(EventRows.Head(_stream, 99, StreamEpoch.Start(), LongestWriterList), ifMatch: null);
        var responses = await _table.SubmitTransactionAsync(transaction.Actions);

        Assert.Equal(100, responses.Value.Count);
        Assert.NotNull(responses.Value[headIndex].Headers.ETag);
    }

    [Fact]
    public void A_second_partition_is_refused_although_azurite_would_accept_it()
    {
        var transaction = new BoundedTransaction(_stream.Value, _table.Uri);
        var other = new TableEntity("another-stream", EventRows.RowKey(1));

        Assert.Throws<AzureTableLimitException>(() => transaction.TryAddInsert(other, 0, 0));
    }

    [Fact]
    public async Task The_body_estimate_stops_short_of_4_MiB_and_what_it_lets_through_azure_accepts()
    {
        // Events of 256 KiB are the largest; the estimate must say "full" before the real body reaches 4 MiB, which
        // Azurite enforces (413), so whatever the helper lets through is a body Azure accepts too.
        var data = new string('d', EventData.MaxBytes);
        var transaction = new BoundedTransaction(_stream.Value, _table.Uri);
        var id = 0;
        while (transaction.TryAddInsert(Row(++id, data), reserveOperations: 1, reserveBytes: transaction.HeadCost))
        {
        }

        transaction.AddHead(EventRows.Head(_stream, id - 1, StreamEpoch.Start(), LongestWriterList), ifMatch: null);
        await _table.SubmitTransactionAsync(transaction.Actions);

        Assert.InRange(id - 1, 8, 11);
        Assert.Equal(id - 1, await _table.QueryAsync<EventEntity>($"PartitionKey eq '{_stream}' and RowKey ne 'head'", select: ["RowKey"]).CountAsync());
    }

    [Fact]
    public void Property_and_key_limits_are_enforced_before_sending()
    {
        var transaction = new BoundedTransaction(_stream.Value, _table.Uri);
        var bigChunk = Row(1, "x");
        bigChunk["Data0"] = new BinaryData(new byte[AzureTableLimits.MaxBinaryPropertyBytes + 1]);
        var longKey = Row(2, "x");
        longKey["Key"] = new string('k', AzureTableLimits.MaxStringPropertyChars + 1);
        var badRowKey = Row(3, "x");
        badRowKey.RowKey = "has/slash";

        Assert.Contains("binary property", Assert.Throws<AzureTableLimitException>(() => transaction.TryAddInsert(bigChunk, 0, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("string property", Assert.Throws<AzureTableLimitException>(() => transaction.TryAddInsert(longKey, 0, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("key rules", Assert.Throws<AzureTableLimitException>(() => transaction.TryAddInsert(badRowKey, 0, 0)).Message, StringComparison.Ordinal);
        Assert.Empty(transaction.Actions);
    }

    [Fact]
    public void The_largest_event_row_is_counted_as_azure_counts_it_and_stays_under_1_MiB()
    {
        // A row with one byte of data: 4 + keys (2 × (n + 19)) + StoredAt (8 + 16 + 8) + Data0 (8 + 10 + 4 + 1).
        var small = Row(1, "x");
        Assert.Equal(4 + (2 * (_stream.Value.Length + 19)) + 32 + 23, AzureTableLimits.EntityBytes(small));
        var tooLarge = Row(2, "x");
        for (var property = 0; property < 17; property++)
        {
            tooLarge[$"Extra{property}"] = new BinaryData(new byte[AzureTableLimits.MaxBinaryPropertyBytes]);
        }

        Assert.Contains("an entity has at most", Assert.Throws<AzureTableLimitException>(() => AzureTableLimits.CheckRow(tooLarge)).Message, StringComparison.Ordinal);

        // The largest row Bridge can write: a 128-character stream, 256 KiB of data, the longest type and key, a
        // commit token. Azure's 1 MiB entity limit therefore never refuses an event.
        var largest = EventRows.Encode(
            StreamName.Parse(new string('s', StreamName.MaxLength)),
            long.MaxValue,
            new NewEvent(EventType.Parse(new string('t', EventType.MaxLength)), new byte[EventData.MaxBytes], IdempotencyKey.Parse(new string('k', IdempotencyKey.MaxLength))),
            DateTimeOffset.UtcNow,
            Guid.NewGuid());
        AzureTableLimits.CheckRow(largest);
        Assert.InRange(AzureTableLimits.EntityBytes(largest), EventData.MaxBytes, AzureTableLimits.MaxEntityBytes / 3);
    }

    [Fact]
    public async Task A_stale_etag_fails_the_whole_transaction_with_412_naming_the_head()
    {
        var first = new BoundedTransaction(_stream.Value, _table.Uri);
        first.TryAddInsert(Row(1, "a"), 1, first.HeadCost);
        first.AddHead(EventRows.Head(_stream, 1, StreamEpoch.Start(), LongestWriterList), ifMatch: null);
        var etag = (await _table.SubmitTransactionAsync(first.Actions)).Value[1].Headers.ETag;
        await _table.UpsertEntityAsync(EventRows.Head(_stream, 1, StreamEpoch.Start(), LongestWriterList), TableUpdateMode.Replace);

        var stale = new BoundedTransaction(_stream.Value, _table.Uri);
        stale.TryAddInsert(Row(2, "b"), 1, stale.HeadCost);
        var headIndex = stale.AddHead(EventRows.Head(_stream, 2, StreamEpoch.Start(), LongestWriterList), etag);
        var failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => _table.SubmitTransactionAsync(stale.Actions));

        Assert.Equal(412, failure.Status);
        Assert.Equal(headIndex, failure.FailedTransactionActionIndex);
        Assert.False((await _table.GetEntityIfExistsAsync<EventEntity>(_stream.Value, EventRows.RowKey(2))).HasValue);
    }

    private TableEntity Row(long id, string data) =>
        EventRows.Encode(_stream, id, new NewEvent(EventType.Message, System.Text.Encoding.UTF8.GetBytes(data)), DateTimeOffset.UtcNow, commit: null);
}
