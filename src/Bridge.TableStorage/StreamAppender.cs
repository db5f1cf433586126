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
/// writer last saw. When another writer got there first, the transaction fails with 412 as a whole, this writer reads
/// what was committed meanwhile (learning its idempotency keys), and tries again with fresh ids.
/// </para>
/// <para>
/// A transaction whose outcome is unknown (a timeout, or a retry by the pipeline after the first attempt did commit)
/// is recognised by the <c>Commit</c> token on its first row, so it is never applied twice.
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
        while (true)
        {
            List<PendingAppend> queued;
            lock (_gate)
            {
                while (_queue.TryPeek(out var first) && first.Next == 0 && first.CancellationToken.IsCancellationRequested)
                {
                    _queue.Dequeue().Completion.TrySetCanceled(first.CancellationToken);
                }

                if (_queue.Count == 0)
                {
                    _draining = false;
                    _lastActiveTimestamp = _time.GetTimestamp();
                    return;
                }

                queued = [.. _queue];
            }

            var staged = new StagedTransaction();
            try
            {
                if (_state == WriterState.Unloaded)
                {
                    await LoadAsync().ConfigureAwait(false);
                }
                else if (_state == WriterState.Stale)
                {
                    await CatchUpAsync(commitToken: null).ConfigureAwait(false);
                }

                var outcome = await CommitAsync(queued, staged).ConfigureAwait(false);
                if (outcome == CommitOutcome.Conflict)
                {
                    conflicts++;
                    if (conflicts >= MaxConsecutiveConflicts)
                    {
                        throw new EventLogUnavailableException(
                            $"Stream '{_stream}' lost {conflicts} commits in a row to other writers. Retry the append.");
                    }

                    await BackOffAsync(conflicts).ConfigureAwait(false);
                    continue;
                }

                conflicts = 0;
                Apply(staged);
            }
            catch (Exception exception)
            {
                // Every queued append waits on the same storage, so all of them get the error now rather than each
                // sitting through its own round of retries. The failed transaction may have committed: catch up first.
                conflicts = 0;
                _state = _state == WriterState.Unloaded ? WriterState.Unloaded : WriterState.Stale;
                Fail(queued, exception);
            }
        }
    }

    private enum CommitOutcome
    {
        Committed,
        Conflict,
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

    /// <summary>
    /// Builds one transaction from the front of the queue and commits it. Duplicates are resolved on the way, without
    /// writing anything.
    /// </summary>
    private async Task<CommitOutcome> CommitAsync(List<PendingAppend> queued, StagedTransaction staged)
    {
        var transaction = _table.CreateTransaction(_stream.Value);
        var commitToken = Guid.NewGuid();
        var storedAt = _time.GetUtcNow();
        var nextId = _lastId + 1;
        var keysInTransaction = new Dictionary<string, long>(StringComparer.Ordinal);

        foreach (var append in queued)
        {
            var index = append.Next;
            for (; index < append.Events.Count; index++)
            {
                var newEvent = append.Events[index];
                var key = newEvent.IdempotencyKey?.Value;
                if (key is not null &&
                    (_window.TryGetId(key, out var originalId) || keysInTransaction.TryGetValue(key, out originalId)))
                {
                    staged.Results.Add((append, index, new AppendResult(originalId, IsDuplicate: true)));
                    continue;
                }

                var entity = EventRows.EncodeEvent(_stream, nextId, newEvent, storedAt, staged.Events.Count == 0 ? commitToken : null);
                if (!transaction.TryAddInsert(entity, reserveOperations: 1, reserveBytes: HeadReserveBytes))
                {
                    break;
                }

                if (key is not null)
                {
                    keysInTransaction[key] = nextId;
                }

                staged.Results.Add((append, index, new AppendResult(nextId, IsDuplicate: false)));
                staged.Events.Add(new StoredEvent(nextId, newEvent.Type, newEvent.Data, storedAt, key));
                nextId++;
            }

            staged.Appends.Add(append);
            if (index < append.Events.Count)
            {
                break;
            }
        }

        if (staged.Events.Count == 0)
        {
            return CommitOutcome.Committed;
        }

        var head = EventRows.EncodeHead(_stream, nextId - 1);
        var added = _headETag is { } etag ? transaction.TryAddReplace(head, etag) : transaction.TryAddInsert(head);
        System.Diagnostics.Debug.Assert(added, "Room for the head row was reserved.");
        var headIndex = transaction.Count - 1;

        try
        {
            var etags = await _table.SubmitTransactionAsync(transaction).ConfigureAwait(false);
            _headETag = etags.Value[headIndex];
            _lastId = nextId - 1;
            return CommitOutcome.Committed;
        }
        catch (TableTransactionFailedException failure) when (failure.Status is 409 or 412)
        {
            // Another writer committed first. The service names the first operation that failed, which is an event
            // row (409, the id is taken) or the head (412, its ETag moved), depending on the order it checks them.
            LogConflict(_stream.Value, failure.Status);
            var knownLastId = _lastId;
            if (await CatchUpAsync(commitToken).ConfigureAwait(false))
            {
                return CommitOutcome.Committed;
            }

            if (_lastId == knownLastId && failure.Status == 409 && failure.FailedOperationIndex != headIndex)
            {
                throw new InvalidOperationException(
                    $"Stream '{_stream}' holds event rows beyond the id its head row records, so its rows were changed " +
                    "outside Bridge. Restore the head row's LastId to the highest event id.", failure);
            }

            return CommitOutcome.Conflict;
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

    private void Apply(StagedTransaction staged)
    {
        foreach (var (append, index, result) in staged.Results)
        {
            append.Results[index] = result;
            append.Next = index + 1;
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

    private void Fail(List<PendingAppend> appends, Exception exception)
    {
        LogAppendFailed(exception, _stream.Value, appends.Count);
        var error = exception as EventLogUnavailableException ?? exception switch
        {
            RequestFailedException storage => new EventLogUnavailableException(
                $"Table storage {TableEventLog.Describe(storage)}, so the append to stream '{_stream}' may not be complete. " +
                "Retry it with the same idempotency keys: events already stored are not stored twice.",
                storage),
            _ => exception,
        };
        lock (_gate)
        {
            foreach (var append in appends)
            {
                append.Completion.TrySetException(error);
            }

            var remaining = _queue.Where(append => !appends.Contains(append)).ToList();
            _queue.Clear();
            remaining.ForEach(_queue.Enqueue);
        }
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

    /// <summary>What one transaction would settle, applied only once it has committed.</summary>
    private sealed class StagedTransaction
    {
        public List<(PendingAppend Append, int Index, AppendResult Result)> Results { get; } = [];

        public List<StoredEvent> Events { get; } = [];

        public List<PendingAppend> Appends { get; } = [];
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
