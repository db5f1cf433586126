using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;

namespace Bridge.TableStorage;

/// <summary>
/// Appends to one stream for this process. Concurrent appends are queued and committed together ("group commit"):
/// each entity group transaction carries up to 99 events plus the stream's head row, so an event costs about one
/// written entity however many callers there are.
/// </summary>
/// <remarks>
/// <para>
/// Ids stay gap-free across processes because every transaction rewrites the head row with If-Match on the ETag this
/// writer last saw (<see cref="StreamWriterState"/>). When another writer got there first, the transaction fails
/// (409 on a taken id, or 412 on the head) as a whole; this writer reads what was committed meanwhile, learning its
/// idempotency keys, and stages the events again with fresh ids.
/// </para>
/// <para>
/// A transaction whose outcome is unknown (a timeout, or a retry by the SDK after the first attempt did commit) is
/// recognised by the <c>Commit</c> token on its first row, so it is never applied twice.
/// </para>
/// <para>
/// While one transaction is in flight the next is already staged (<see cref="StagedTransaction"/>) on the assumption
/// that the first commits; it is thrown away if it does not. So staging overlaps storage round trips. Once the first
/// has committed, the next is topped up with the appends queued meanwhile and sent. One drain task runs while appends
/// are queued; an idle stream costs no task and no timer.
/// </para>
/// </remarks>
internal sealed partial class StreamAppender
{
    /// <summary>
    /// How long a writer may keep losing every race before its queued appends fail. Its callers have given up long
    /// before (<see cref="TableEventLogOptions.OperationTimeoutSeconds"/>); this only stops a drain that could
    /// otherwise spin for ever against a writer that never pauses.
    /// </summary>
    private static readonly TimeSpan LongestLosingStreak = TimeSpan.FromMinutes(1);

    private readonly StreamName _stream;
    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BridgeMetrics _metrics;
    private readonly StreamWriterState _writer;

    private readonly Lock _gate = new();
    private readonly Queue<PendingAppend> _queue = new(); // guarded by _gate
    private bool _draining;                                // guarded by _gate
    private bool _retired;                                 // guarded by _gate
    private long _lastActiveTimestamp;                     // guarded by _gate
    private Task _drain = Task.CompletedTask;              // guarded by _gate

    public StreamAppender(StreamName stream, TableClient table, int windowSize, TimeProvider time, ILogger logger, BridgeMetrics metrics)
    {
        _stream = stream;
        _table = table;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _writer = new StreamWriterState(stream, table, windowSize, time, metrics);
        _lastActiveTimestamp = time.GetTimestamp();
    }

    /// <summary>Queues an append, or returns false when this appender was retired and a new one must be used.</summary>
    public bool TryEnqueue(PendingAppend append)
    {
        bool startDrain;
        lock (_gate)
        {
            if (_retired)
            {
                return false;
            }

            _queue.Enqueue(append);
            startDrain = !_draining;
            _draining = true;
        }

        if (startDrain)
        {
            var drain = Task.Run(DrainAsync);
            lock (_gate)
            {
                _drain = drain;
            }
        }

        return true;
    }

    /// <summary>
    /// Takes no more appends and completes once every append already queued has been committed or has failed, so
    /// that none is dropped when the process stops.
    /// </summary>
    public Task CloseAsync()
    {
        lock (_gate)
        {
            _retired = true;
            return _drain;
        }
    }

    /// <summary>Retires the appender if nothing was appended for <paramref name="idleTime"/>, freeing its memory.</summary>
    public bool TryRetire(TimeSpan idleTime)
    {
        lock (_gate)
        {
            if (_draining || _time.GetElapsedTime(_lastActiveTimestamp) < idleTime)
            {
                return false;
            }

            _retired = true;
            return true;
        }
    }

    private async Task DrainAsync()
    {
        var conflicts = 0;
        var losingSince = 0L;
        while (TakeQueue(stopWhenEmpty: true) is { } queued)
        {
            try
            {
                await WaitForTurnAsync().ConfigureAwait(false);
                await _writer.BringUpToDateAsync(CancellationToken.None).ConfigureAwait(false);
                var current = Stage(queued, previous: null);
                while (current is not null)
                {
                    if (current.Events.Count == 0)
                    {
                        // Only duplicates, so nothing to write; but their originals must still be stored, or a
                        // producer retrying an event that storage lost would be told it is safe. If they are not,
                        // the writer has reloaded what is stored and the appends are staged again.
                        if (await _writer.StillHoldsAsync(CancellationToken.None).ConfigureAwait(false))
                        {
                            Apply(current, headETag: null);
                        }

                        break;
                    }

                    // Start the commit, stage the next transaction while it is in flight, then settle the commit. Only
                    // this task touches the writer's state, and only after the await.
                    var headIndex = current.Transaction.AddHead(
                        EventRows.Head(_stream, current.LastId, _writer.Epoch, _writer.Turns.List()), _writer.HeadETag);
                    var submitting = _table.SubmitTransactionAsync(current.Transaction.Actions);
                    var next = TakeQueue(stopWhenEmpty: false) is { } more ? Stage(more, previous: current) : null;
                    if (await SettleAsync(current, submitting, headIndex).ConfigureAwait(false) is not { } committed)
                    {
                        losingSince = ++conflicts == 1 ? _time.GetTimestamp() : losingSince;
                        if (_time.GetElapsedTime(losingSince) > LongestLosingStreak)
                        {
                            throw new EventLogUnavailableException(
                                $"Stream '{_stream}' lost all {conflicts} commits to other writers for {LongestLosingStreak.TotalSeconds:F0} s. Retry the append.");
                        }

                        if (!_writer.Turns.Contended)
                        {
                            await PauseAfterLossAsync(conflicts).ConfigureAwait(false);
                        }

                        break;
                    }

                    conflicts = 0;
                    _writer.Turns.Committed();
                    Apply(current, committed.HeadETag);

                    // The next transaction's ids assumed nobody else wrote after this one; a commit recognised only
                    // after a conflict may have been followed by other writers, so then it is staged again. A turn
                    // that ended leaves it for the next. Otherwise it also takes what arrived during the round trip:
                    // those callers then wait for one commit rather than two, and each commit carries more events.
                    if (next is not null && _writer.LastId == current.LastId && _writer.Turns.MayContinue())
                    {
                        next.TopUp(_stream, TakeQueue(stopWhenEmpty: false) ?? [], _writer);
                        current = next.IsEmpty ? null : next;
                    }
                    else
                    {
                        current = null;
                    }
                }
            }
            catch (Exception exception)
            {
                // Every queued append waits on the same storage, so all of them get the error now rather than each
                // sitting through its own round of retries. The failed transaction may have committed: catch up first.
                conflicts = 0;
                _writer.MarkStale();
                FailQueued(exception);
            }
        }
    }

    /// <summary>
    /// With rival writers, waits for this writer's turn, and at the start of a new turn reads what they committed
    /// before it (<see cref="WriterTurns"/>).
    /// </summary>
    private async Task WaitForTurnAsync()
    {
        bool rivalsMayHaveWritten;
        for (var wait = _writer.Turns.UntilTurn(out rivalsMayHaveWritten); wait > TimeSpan.Zero; wait = _writer.Turns.UntilTurn(out rivalsMayHaveWritten))
        {
            await Task.Delay(wait, _time).ConfigureAwait(false);
        }

        if (rivalsMayHaveWritten)
        {
            _writer.MarkStale();
        }
    }

    /// <summary>
    /// Adds this writer to the head's list of writers with a merge that needs no ETag, so that the writer that keeps
    /// winning fails its next commit, reads the list and takes turns from then on.
    /// </summary>
    private async Task AnnounceAsync()
    {
        var listing = new TableEntity(_stream.Value, EventRows.HeadRowKey) { [nameof(HeadEntity.Writers)] = _writer.Turns.List() };
        try
        {
            var response = await _table.UpdateEntityAsync(listing, ETag.All, TableUpdateMode.Merge).ConfigureAwait(false);
            _metrics.StorageTransactions.Add(1, StorageKind.Announce);
            _writer.Announced(response.Headers.ETag ?? default);
        }
        catch (RequestFailedException gone) when (gone.Status == 404)
        {
            // The head is gone, so the stream's history was lost: the next catch-up finds that out.
        }
    }

    /// <summary>
    /// The queued appends, after dropping those cancelled before any of their events was staged; null when there are
    /// none, in which case, with <paramref name="stopWhenEmpty"/>, the drain task ends.
    /// </summary>
    private List<PendingAppend>? TakeQueue(bool stopWhenEmpty)
    {
        lock (_gate)
        {
            while (_queue.TryPeek(out var first) && first.Next == 0 && first.CancellationToken.IsCancellationRequested)
            {
                _queue.Dequeue().Completion.TrySetCanceled(first.CancellationToken);
            }

            if (_queue.Count > 0)
            {
                return [.. _queue];
            }

            if (stopWhenEmpty)
            {
                _draining = false;
                _lastActiveTimestamp = _time.GetTimestamp();
            }

            return null;
        }
    }

    private StagedTransaction Stage(List<PendingAppend> queued, StagedTransaction? previous) =>
        StagedTransaction.Stage(_stream, _table.Uri, queued, previous, _writer, _time.GetUtcNow());

    /// <summary>
    /// Waits for a commit. Returns the head's new ETag when the transaction committed, or null when another writer got
    /// there first and this writer has caught up, so the events must be staged again. A commit whose response was lost
    /// is recognised by its token; its head ETag is then the one just read.
    /// </summary>
    private async Task<Committed?> SettleAsync(StagedTransaction staged, Task<Response<IReadOnlyList<Response>>> submitting, int headIndex)
    {
        try
        {
            var responses = await submitting.ConfigureAwait(false);
            _metrics.StorageTransactions.Add(1, StorageKind.Commit);
            return new Committed(responses.Value[headIndex].Headers.ETag);
        }
        catch (TableTransactionFailedException failure) when (failure.Status is 409 or 412 || (failure.Status == 404 && failure.FailedTransactionActionIndex == headIndex))
        {
            // Another writer committed first. The service names the first operation that failed: an event row (409,
            // the id is taken) or the head (412, its ETag moved), depending on the order it checks them. A head that
            // is gone (404) means the stream's history was lost: catching up finds that out.
            LogConflict(_stream.Value, failure.Status);
            _metrics.StorageTransactions.Add(1, StorageKind.Conflict);
            var knownLastId = _writer.LastId;
            if (await _writer.CatchUpAsync(staged.CommitToken, CancellationToken.None).ConfigureAwait(false))
            {
                return new Committed(_writer.HeadETag);
            }

            if (_writer.Turns.Contended && !_writer.Listed)
            {
                await AnnounceAsync().ConfigureAwait(false);
            }

            if (_writer.LastId == knownLastId && failure.Status == 409 && failure.FailedTransactionActionIndex != headIndex)
            {
                throw new InvalidOperationException(
                    $"Stream '{_stream}' holds event rows beyond the id its head row records, so its rows were changed " +
                    "outside Bridge. Restore the head row's LastId to the highest event id.", failure);
            }

            return null;
        }
    }

    /// <summary>Settles a committed (or duplicates-only) transaction: its results, and the writer's state.</summary>
    private void Apply(StagedTransaction staged, ETag? headETag)
    {
        foreach (var (append, index, result) in staged.Results)
        {
            append.Results[index] = result;
        }

        foreach (var (append, end) in staged.Ends)
        {
            append.Next = end;
        }

        _writer.Committed(staged.Events, headETag);

        lock (_gate)
        {
            while (_queue.TryPeek(out var first) && first.Next == first.Events.Count)
            {
                _queue.Dequeue().Completion.TrySetResult(first.Results);
            }
        }
    }

    private void FailQueued(Exception exception)
    {
        var error = exception as EventLogUnavailableException ?? (StorageFailure.IsStorageFailure(exception, CancellationToken.None)
            ? StorageFailure.Wrap(
                exception,
                $"The append to stream '{_stream}' may not be complete",
                "Retry it with the same idempotency keys: events already stored are not stored twice.")
            : exception);
        int failed;
        lock (_gate)
        {
            failed = _queue.Count;
            while (_queue.TryDequeue(out var append))
            {
                append.Completion.TrySetException(error);
            }
        }

        LogAppendFailed(exception, _stream.Value, failed);
    }

    /// <summary>
    /// After the second loss in a row, a few milliseconds at random, so that rivals fall out of step; the same after
    /// every loss, since a pause that grew would only hand the head to the winner for longer.
    /// </summary>
    private Task PauseAfterLossAsync(int conflicts) =>
        conflicts < 2 ? Task.CompletedTask : Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10)), _time);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Commit to stream {Stream} lost a race to another writer ({Status}); catching up")]
    private partial void LogConflict(string stream, int status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Append to stream {Stream} failed; {Appends} append call(s) get the error")]
    private partial void LogAppendFailed(Exception exception, string stream, int appends);

    private sealed record Committed(ETag? HeadETag);
}

/// <summary>One caller's append, waiting in a <see cref="StreamAppender"/>'s queue.</summary>
internal sealed class PendingAppend(IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
{
    public IReadOnlyList<NewEvent> Events { get; } = events;

    public AppendResult[] Results { get; } = new AppendResult[events.Count];

    /// <summary>The index of the first event not yet settled. Only the drain task touches it.</summary>
    public int Next { get; set; }

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public TaskCompletionSource<IReadOnlyList<AppendResult>> Completion { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
}
