using Azure;
using Bridge.Events;
using Bridge.TableStorage.Rest;
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
/// writer last saw. When another writer got there first, the transaction fails (409 on a taken id, or 412 on the
/// head) as a whole; this writer reads what was committed meanwhile, learning its idempotency keys, and tries again
/// with fresh ids.
/// </para>
/// <para>
/// A transaction whose outcome is unknown (a timeout, or a retry by the pipeline after the first attempt did commit)
/// is recognised by the <c>Commit</c> token on its first row, so it is never applied twice.
/// </para>
/// <para>
/// While one transaction is in flight the next is already staged (deduplicated and encoded) on the assumption that
/// the first commits; it is thrown away if it does not. So encoding overlaps storage round trips.
/// </para>
/// <para>One drain task runs while appends are queued; an idle stream costs no task and no timer.</para>
/// </remarks>
internal sealed partial class StreamAppender
{
    // The head row takes one operation of the 100; its body part needs well under this many bytes.
    private const int HeadReserveBytes = 1024;
    private const int MaxConsecutiveConflicts = 100;

    private readonly StreamName _stream;
    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private readonly LocalCommitFeed _commits;
    private readonly ILogger _logger;
    private readonly int _windowSize;

    private readonly Lock _gate = new();
    private readonly Queue<PendingAppend> _queue = new(); // guarded by _gate
    private bool _draining;                                // guarded by _gate
    private bool _retired;                                 // guarded by _gate
    private long _lastActiveTimestamp;                     // guarded by _gate

    // The writer's view of the stream. Only the drain task touches it.
    private readonly IdempotencyWindow _window;
    private WriterState _state = WriterState.Unloaded;
    private long _lastId;
    private ETag? _headETag;

    public StreamAppender(StreamName stream, TableClient table, int windowSize, TimeProvider time, LocalCommitFeed commits, ILogger logger)
    {
        _stream = stream;
        _table = table;
        _windowSize = windowSize;
        _time = time;
        _commits = commits;
        _logger = logger;
        _window = new IdempotencyWindow(windowSize);
        _lastActiveTimestamp = time.GetTimestamp();
    }

    private enum WriterState
    {
        /// <summary>Nothing read yet: load the head and the key window.</summary>
        Unloaded,

        /// <summary>The last commit's outcome is unknown: read what was committed since <see cref="_lastId"/>.</summary>
        Stale,

        /// <summary>The head ETag and key window match storage as far as this writer knows.</summary>
        Current,
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
            _ = Task.Run(DrainAsync);
        }

        return true;
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
        while (TakeQueue(stopWhenEmpty: true) is { } queued)
        {
            try
            {
                await BringUpToDateAsync().ConfigureAwait(false);
                var current = Stage(queued, previous: null);
                while (current is not null)
                {
                    if (current.Events.Count == 0)
                    {
                        Apply(current);
                        break;
                    }

                    // Start the commit, stage the next transaction while it is in flight, then settle the commit. Only
                    // this task touches the writer's state, and only after the await.
                    var headIndex = AddHead(current);
                    var submitting = _table.SubmitTransactionAsync(current.Transaction);
                    var next = TakeQueue(stopWhenEmpty: false) is { } more ? Stage(more, previous: current) : null;
                    if (!await SettleAsync(current, submitting, headIndex).ConfigureAwait(false))
                    {
                        if (++conflicts >= MaxConsecutiveConflicts)
                        {
                            throw new EventLogUnavailableException(
                                $"Stream '{_stream}' lost {conflicts} commits in a row to other writers. Retry the append.");
                        }

                        await BackOffAsync(conflicts).ConfigureAwait(false);
                        break;
                    }

                    conflicts = 0;
                    Apply(current);

                    // The next transaction's ids assumed nobody else wrote after this one; a commit recognised only
                    // after a conflict may have been followed by other writers, so then it is staged again.
                    current = next is { IsEmpty: false } && _lastId == current.LastId ? next : null;
                }
            }
            catch (Exception exception)
            {
                // Every queued append waits on the same storage, so all of them get the error now rather than each
                // sitting through its own round of retries. The failed transaction may have committed: catch up first.
                conflicts = 0;
                _state = _state == WriterState.Unloaded ? WriterState.Unloaded : WriterState.Stale;
                FailQueued(exception);
            }
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

    private async Task BringUpToDateAsync()
    {
        if (_state == WriterState.Unloaded)
        {
            await LoadAsync().ConfigureAwait(false);
        }
        else if (_state == WriterState.Stale)
        {
            await CatchUpAsync(commitToken: null).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stages the next transaction from the front of <paramref name="queued"/>: resolves duplicates (against the key
    /// window, the transaction in flight and this one) and encodes new events, up to 99 and 4 MiB. With a
    /// <paramref name="previous"/> transaction in flight, it continues after it and assumes it commits.
    /// </summary>
    private StagedTransaction Stage(List<PendingAppend> queued, StagedTransaction? previous)
    {
        var staged = new StagedTransaction(_table.CreateTransaction(_stream.Value), (previous?.LastId ?? _lastId) + 1, _time.GetUtcNow());
        foreach (var append in queued)
        {
            var index = previous?.EndOf(append) ?? append.Next;
            for (; index < append.Events.Count; index++)
            {
                var newEvent = append.Events[index];
                var key = newEvent.IdempotencyKey?.Value;
                if (key is not null &&
                    (_window.TryGetId(key, out var originalId) || previous?.TryGetNewId(key, out originalId) == true || staged.TryGetNewId(key, out originalId)))
                {
                    staged.Results.Add((append, index, new AppendResult(originalId, IsDuplicate: true)));
                    continue;
                }

                var id = staged.LastId + 1;
                var entity = EventRows.EncodeEvent(_stream, id, newEvent, staged.StoredAt, staged.Events.Count == 0 ? staged.CommitToken : null);
                if (!staged.Transaction.TryAddInsert(entity, reserveOperations: 1, reserveBytes: HeadReserveBytes))
                {
                    break;
                }

                staged.AddNew(append, index, new StoredEvent(id, newEvent.Type, newEvent.Data, staged.StoredAt, key));
            }

            staged.Ends[append] = index;
            if (index < append.Events.Count)
            {
                break;
            }
        }

        return staged;
    }

    /// <summary>
    /// Adds the head row, conditional on the ETag this writer last saw (or as an insert for a new stream), and
    /// returns its index in the transaction.
    /// </summary>
    private int AddHead(StagedTransaction staged)
    {
        var head = EventRows.EncodeHead(_stream, staged.LastId);
        var added = _headETag is { } etag ? staged.Transaction.TryAddReplace(head, etag) : staged.Transaction.TryAddInsert(head);
        System.Diagnostics.Debug.Assert(added, "Room for the head row was reserved.");
        return staged.Transaction.Count - 1;
    }

    /// <summary>
    /// Waits for a commit. True when the transaction committed (even if its response was lost); false when another
    /// writer got there first and this writer has caught up, so the events must be staged again.
    /// </summary>
    private async Task<bool> SettleAsync(StagedTransaction staged, Task<Response<IReadOnlyList<ETag?>>> submitting, int headIndex)
    {
        try
        {
            var etags = await submitting.ConfigureAwait(false);
            _headETag = etags.Value[headIndex];
            _lastId = staged.LastId;
            return true;
        }
        catch (TableTransactionFailedException failure) when (failure.Status is 409 or 412)
        {
            // Another writer committed first. The service names the first operation that failed, which is an event
            // row (409, the id is taken) or the head (412, its ETag moved), depending on the order it checks them.
            LogConflict(_stream.Value, failure.Status);
            var knownLastId = _lastId;
            if (await CatchUpAsync(staged.CommitToken).ConfigureAwait(false))
            {
                return true;
            }

            if (_lastId == knownLastId && failure.Status == 409 && failure.FailedOperationIndex != headIndex)
            {
                throw new InvalidOperationException(
                    $"Stream '{_stream}' holds event rows beyond the id its head row records, so its rows were changed " +
                    "outside Bridge. Restore the head row's LastId to the highest event id.", failure);
            }

            return false;
        }
    }

    /// <summary>Reads the head and the key window from storage.</summary>
    private async Task LoadAsync()
    {
        var (lastId, etag) = await ReadHeadAsync().ConfigureAwait(false);
        _window.Clear();
        _lastId = Math.Max(0, lastId - _windowSize);
        await RememberKeysAsync(lastId, commitToken: null).ConfigureAwait(false);
        _lastId = lastId;
        _headETag = etag;
        _state = WriterState.Current;
    }

    /// <summary>
    /// Learns what other writers committed since <see cref="_lastId"/>. Returns true when the transaction with
    /// <paramref name="commitToken"/>, thought lost, had in fact committed (its token is on the row after the last id
    /// this writer knew).
    /// </summary>
    private async Task<bool> CatchUpAsync(Guid? commitToken)
    {
        var (lastId, etag) = await ReadHeadAsync().ConfigureAwait(false);
        if (lastId < _lastId)
        {
            // The head went backwards: the stream was deleted or restored. Start again from what is stored now.
            await LoadAsync().ConfigureAwait(false);
            return false;
        }

        var committed = await RememberKeysAsync(lastId, commitToken).ConfigureAwait(false);
        _lastId = lastId;
        _headETag = etag;
        _state = WriterState.Current;
        return committed;
    }

    private async Task<bool> RememberKeysAsync(long throughId, Guid? commitToken)
    {
        var tokenRow = _lastId + 1;
        var committed = false;
        if (throughId > _lastId)
        {
            var rows = _table.QueryAsync(
                EventRows.RangeFilter(_stream, _lastId, throughId), EventRows.KeyProjection, TableLimits.MaxPageSize, EventRows.DecodeKey);
            await foreach (var (id, key, commit) in rows.ConfigureAwait(false))
            {
                if (key is not null)
                {
                    _window.Remember(key, id);
                }

                committed |= commitToken is not null && id == tokenRow && commit == commitToken;
            }
        }

        _window.Slide(throughId);
        return committed;
    }

    private async Task<(long LastId, ETag? ETag)> ReadHeadAsync()
    {
        var head = await _table.GetEntityIfExistsAsync(_stream.Value, EventRows.HeadRowKey, EventRows.DecodeHead).ConfigureAwait(false);
        return head.HasValue ? (head.Value, head.GetRawResponse().Headers.ETag) : (0, null);
    }

    /// <summary>Settles a committed (or duplicates-only) transaction: results, key window, announcement.</summary>
    private void Apply(StagedTransaction staged)
    {
        foreach (var (append, index, result) in staged.Results)
        {
            append.Results[index] = result;
        }

        foreach (var (append, end) in staged.Ends)
        {
            append.Next = end;
        }

        foreach (var stored in staged.Events)
        {
            if (stored.IdempotencyKey is { } key)
            {
                _window.Remember(key, stored.Id);
            }
        }

        _window.Slide(_lastId);
        if (staged.Events.Count > 0)
        {
            try
            {
                _commits.Announce(_stream, staged.Events);
            }
            catch (Exception exception)
            {
                // Live delivery has its own fallback (polling); a failing listener must not fail a stored append.
                LogAnnounceFailed(exception, _stream.Value);
            }
        }

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
        var error = exception as EventLogUnavailableException ?? exception switch
        {
            RequestFailedException storage => new EventLogUnavailableException(
                $"Table storage {TableEventLog.Describe(storage)}, so the append to stream '{_stream}' may not be complete. " +
                "Retry it with the same idempotency keys: events already stored are not stored twice.",
                storage),
            _ => exception,
        };
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

    private Task BackOffAsync(int conflicts) =>
        conflicts < 3
            ? Task.CompletedTask
            : Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * Math.Min(conflicts, 20))), _time);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Commit to stream {Stream} lost a race to another writer ({Status}); catching up")]
    private partial void LogConflict(string stream, int status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Append to stream {Stream} failed; {Appends} append call(s) get the error")]
    private partial void LogAppendFailed(Exception exception, string stream, int appends);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A local commit listener failed for stream {Stream}")]
    private partial void LogAnnounceFailed(Exception exception, string stream);

    /// <summary>
    /// One transaction being prepared or in flight: its events (with ids from <see cref="FirstId"/>), the outcome of
    /// every event it settles, and how far into each append it reaches. Applied only once it has committed.
    /// </summary>
    private sealed class StagedTransaction(TableTransaction transaction, long firstId, DateTimeOffset storedAt)
    {
        private readonly Dictionary<string, long> _newIdsByKey = new(StringComparer.Ordinal);

        public TableTransaction Transaction { get; } = transaction;

        public Guid CommitToken { get; } = Guid.NewGuid();

        public DateTimeOffset StoredAt { get; } = storedAt;

        public long LastId => firstId + Events.Count - 1;

        public List<StoredEvent> Events { get; } = [];

        public List<(PendingAppend Append, int Index, AppendResult Result)> Results { get; } = [];

        /// <summary>For each append this transaction reaches into, the index of the first event it leaves for later.</summary>
        public Dictionary<PendingAppend, int> Ends { get; } = [];

        public bool IsEmpty => Results.Count == 0;

        public int? EndOf(PendingAppend append) => Ends.TryGetValue(append, out var end) ? end : null;

        public bool TryGetNewId(string key, out long id) => _newIdsByKey.TryGetValue(key, out id);

        public void AddNew(PendingAppend append, int index, StoredEvent stored)
        {
            Events.Add(stored);
            Results.Add((append, index, new AppendResult(stored.Id, IsDuplicate: false)));
            if (stored.IdempotencyKey is { } key)
            {
                _newIdsByKey[key] = stored.Id;
            }
        }
    }
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
