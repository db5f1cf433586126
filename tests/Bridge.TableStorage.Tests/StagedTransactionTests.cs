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

    [Fact]
    public void Once_the_transaction_in_flight_is_applied_the_next_takes_the_calls_queued_meanwhile()
    {
        var large = Append(150);
        var next = StagedBehindACommit(large);
        var arrivedDuringTheRoundTrip = Append(10);

        next.TopUp(Stream, [large, arrivedDuringTheRoundTrip], _writer);
        next.TopUp(Stream, [large, arrivedDuringTheRoundTrip], _writer);

        Assert.Equal(Enumerable.Range(100, 61).Select(i => (long)i), next.Events.Select(e => e.Id));
        Assert.Equal(10, next.Ends[arrivedDuringTheRoundTrip]);
    }

    [Fact]
    public void A_top_up_still_never_splits_a_call_that_fits_in_one_transaction()
    {
        var large = Append(150);
        var next = StagedBehindACommit(large);
        var tooLargeForWhatIsLeft = Append(60);

        next.TopUp(Stream, [large, tooLargeForWhatIsLeft], _writer);

        Assert.Equal(51, next.Events.Count);
        Assert.False(next.Ends.ContainsKey(tooLargeForWhatIsLeft));
    }

    [Fact]
    public void A_top_up_settles_a_repeat_of_an_event_just_committed_as_a_duplicate()
    {
        var first = Append(120, keyPrefix: "k");
        var next = StagedBehindACommit(first);
        var repeat = Append(5, keyPrefix: "k");

        next.TopUp(Stream, [first, repeat], _writer);

        Assert.Equal(21, next.Events.Count);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), next.Results.Where(result => result.Append == repeat).Select(result => result.Result.Id));
        Assert.All(next.Results.Where(result => result.Append == repeat), result => Assert.True(result.Result.IsDuplicate));
    }

    /// <summary>
    /// The rest of <paramref name="large"/>, staged while its first transaction was in flight, after that one committed
    /// as the appender applies it: the writer learns its ids and keys, and the call how far it got.
    /// </summary>
    private StagedTransaction StagedBehindACommit(PendingAppend large)
    {
        var inFlight = Stage([large], previous: null);
        var next = Stage([large], previous: inFlight);
        _writer.Committed(inFlight.Events, headETag: null);
        large.Next = inFlight.Ends[large];
        return next;
    }

    private StagedTransaction Stage(IReadOnlyList<PendingAppend> queued, StagedTransaction? previous) =>
        StagedTransaction.Stage(Stream, Table.Uri, queued, previous, _writer, DateTimeOffset.UtcNow);

    private static PendingAppend Append(int events, string? keyPrefix = null) =>
        new([.. Enumerable.Range(0, events).Select(i => EventLogs.Text($"event {i}", key: keyPrefix is null ? null : $"{keyPrefix}{i}"))], CancellationToken.None);
}
