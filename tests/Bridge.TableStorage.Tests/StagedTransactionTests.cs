using Azure.Data.Tables;
using Bridge.Events;
using Bridge.DevKit;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// How queued appends are cut into transactions. A call that fits in one transaction is never split, so it commits
/// atomically with contiguous ids even when another process commits between this writer's transactions.
/// </summary>
public class StagedTransactionTests
{
    private static readonly StreamName Stream = StreamName.Parse("staging");
    private static readonly TableClient Table = new(new Uri($"http://127.0.0.1:10002/{AzuriteProcess.DevelopmentAccountName}/staging"));
    private readonly StreamWriterState _writer = new(Stream, Table, windowSize: 1000, TimeProvider.System, new Bridge.Telemetry.BridgeMetrics());

    [Fact]
    public void A_call_that_would_straddle_two_transactions_starts_the_next_one_instead()
    {
        var first = Append(60);
        var second = Append(60);

        var staged = Stage([first, second], previous: null);
        var next = Stage([first, second], previous: staged);

        Assert.Equal(60, staged.Events.Count);
        Assert.Equal([(first, 60)], staged.Ends.Select(end => (end.Key, end.Value)));
        Assert.Equal(Enumerable.Range(61, 60).Select(i => (long)i), next.Events.Select(e => e.Id));
    }

    [Fact]
    public void Calls_that_fit_together_share_one_transaction()
    {
        var staged = Stage([Append(60), Append(39)], previous: null);

        Assert.Equal(99, staged.Events.Count);
    }

    [Fact]
    public void A_call_too_large_for_one_transaction_fills_the_room_left_and_continues_in_the_next()
    {
        var small = Append(30);
        var large = Append(150);

        var staged = Stage([small, large], previous: null);
        var next = Stage([small, large], previous: staged);

        Assert.Equal([99, 81], new[] { staged, next }.Select(transaction => transaction.Events.Count));
        Assert.Equal(69, staged.Ends[large]);
        Assert.Equal(150, next.Ends[large]);
    }

    [Fact]
    public void Duplicates_take_no_room_and_settle_with_the_original_id()
    {
        var first = Append(40, keyPrefix: "k");
        var repeated = Append(40, keyPrefix: "k");

        var staged = Stage([first, repeated], previous: null);

        Assert.Equal(40, staged.Events.Count);
        Assert.Equal(80, staged.Results.Count);
        Assert.All(staged.Results.Where(result => result.Append == repeated), result => Assert.True(result.Result.IsDuplicate));
    }

    private StagedTransaction Stage(IReadOnlyList<PendingAppend> queued, StagedTransaction? previous) =>
        StagedTransaction.Stage(Stream, Table.Uri, queued, previous, _writer, DateTimeOffset.UtcNow);

    private static PendingAppend Append(int events, string? keyPrefix = null) =>
        new([.. Enumerable.Range(0, events).Select(i => EventLogs.Text($"event {i}", key: keyPrefix is null ? null : $"{keyPrefix}{i}"))], CancellationToken.None);
}
