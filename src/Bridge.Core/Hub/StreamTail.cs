using System.Buffers;
using Bridge.Events;
using Bridge.Sse;
using Bridge.Subscribers;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;

namespace Bridge.Hub;

/// <summary>
/// Follows one stream for this process and fans its new events out to every subscriber here. There is one tail per
/// active stream per process, so storage reads grow with streams and processes, never with connections.
/// </summary>
/// <remarks>
/// <para>
/// Events reach the tail two ways: those this process commits are handed over at once (<see cref="OnCommitted"/>),
/// and those other processes commit are found by reading the stream's head every poll interval (<see cref="RunAsync"/>).
/// Either way each event is encoded once, its bytes are shared by all subscribers, and events go out in id order:
/// a run that arrives ahead of the ones before it waits, briefly, for them.
/// </para>
/// <para>
/// When the head shows that the stored history was replaced (its id went backwards, or its epoch changed to one that
/// does not continue this one), every subscriber gets a <c>bridge.gap</c> event and the events of the new history
/// from where the two part.
/// </para>
/// <para>
/// The hub's clock calls <see cref="Housekeep"/> about once a second, to send heartbeats on a quiet stream and end
/// responses that reached their deadline, so a connection needs no timer of its own. A tail with no subscribers
/// stops after <see cref="TailOptions.IdleSeconds"/>.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "Its CancellationTokenSource has no timer and holds nothing unmanaged; Stop may cancel it at any time.")]
internal sealed partial class StreamTail
{
    /// <summary>
    /// How long a run that arrived ahead of its predecessors waits before the tail reads them from storage. Runs this
    /// process commits are handed over by concurrent publishers in any order, a few microseconds apart; a gap that
    /// outlasts this is another process's events.
    /// </summary>
    private static readonly TimeSpan GapGrace = TimeSpan.FromMilliseconds(25);

    private readonly IEventLog _log;
    private readonly BridgeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _heartbeatInterval;
    private readonly TimeSpan _idleTime;

    private readonly Lock _gate = new();
    private readonly List<Attachment> _subscribers = [];               // guarded by _gate
    private readonly RecentEvents _recent;                             // guarded by _gate
    private readonly SortedDictionary<long, EncodedEvents> _ahead = []; // guarded by _gate: runs waiting for earlier ones
    private long _position = -1;                                       // guarded by _gate; -1 until the first head read
    private StreamEpoch _epoch = StreamEpoch.None;                     // guarded by _gate
    private long _lastSentTimestamp;                                   // guarded by _gate
    private long? _idleSinceTimestamp;                                 // guarded by _gate
    private long? _gapSinceTimestamp;                                  // guarded by _gate
    private bool _stopped;                                             // guarded by _gate
    private TaskCompletionSource? _pollWaiters;                        // guarded by _gate

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pollRequested;
    private int _started;
    private bool _pollFailing;

    public StreamTail(StreamName stream, IEventLog log, TailOptions tail, SseOptions sse, TimeProvider time, ILogger logger, BridgeMetrics metrics)
    {
        _metrics = metrics;
        Stream = stream;
        _log = log;
        _time = time;
        _logger = logger;
        _pollInterval = TimeSpan.FromMilliseconds(tail.PollIntervalMilliseconds);
        _heartbeatInterval = TimeSpan.FromSeconds(sse.HeartbeatSeconds);
        _idleTime = TimeSpan.FromSeconds(tail.IdleSeconds);
        _recent = new RecentEvents(tail.RecentEventsBytes);
    }

    public StreamName Stream { get; }

    /// <summary>Completes once the tail knows the stream's head; faults when storage could not be read.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The id of the last event fanned out.</summary>
    public long Position
    {
        get
        {
            lock (_gate)
            {
                return _position;
            }
        }
    }

    /// <summary>The epoch that <see cref="Position"/> belongs to.</summary>
    public StreamEpoch Epoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

    /// <summary>The number of subscribers receiving live events.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>True once the tail has stopped: for idleness, a failed start, or shutdown.</summary>
    public bool IsStopped
    {
        get
        {
            lock (_gate)
            {
                return _stopped;
            }
        }
    }

    /// <summary>True for the one caller that should start <see cref="RunAsync"/>.</summary>
    public bool TryClaimStart() => Interlocked.Exchange(ref _started, 1) == 0;

    /// <summary>
    /// Reads the stream's head, then polls it every interval (or sooner, when asked or when a gap needs filling) until
    /// the tail stops or <paramref name="stopping"/> fires.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stopping, _stop.Token);
        if (!await StartAsync(running.Token).ConfigureAwait(false))
        {
            return;
        }

        var lastPollTimestamp = _time.GetTimestamp();
        while (!running.IsCancellationRequested)
        {
            await NapAsync(DelayUntilDue(lastPollTimestamp), running.Token).ConfigureAwait(false);
            TaskCompletionSource? waiters;
            bool gapDue;
            lock (_gate)
            {
                waiters = _pollWaiters;
                _pollWaiters = null;
                gapDue = _gapSinceTimestamp is { } gapSince && _time.GetElapsedTime(gapSince) >= GapGrace;
            }

            var requested = Interlocked.Exchange(ref _pollRequested, 0) == 1;
            if (requested || waiters is not null || gapDue || _time.GetElapsedTime(lastPollTimestamp) >= _pollInterval)
            {
                lastPollTimestamp = _time.GetTimestamp();
                await PollAsync(running.Token).ConfigureAwait(false);
                lock (_gate)
                {
                    // A gap a poll could not fill (storage failing) waits for the next regular poll, not another grace.
                    _gapSinceTimestamp = null;
                }
            }

            waiters?.TrySetResult();
        }
    }

    /// <summary>Reads the head now, and completes once a read that began after this call has finished.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken)
    {
        Task polled;
        lock (_gate)
        {
            polled = (_pollWaiters ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        Wake(poll: true);
        return polled.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Registers <paramref name="subscriber"/> for the events after <paramref name="afterId"/> of epoch
    /// <paramref name="epoch"/>, tagged with <paramref name="lane"/> (this stream's place in the subscriber's response).
    /// Events the tail still holds in memory are put in <paramref name="catchUp"/>, for the caller to write first.
    /// </summary>
    public AttachOutcome TryAttach(Subscriber subscriber, int lane, string epoch, long afterId, List<Outbound> catchUp)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return AttachOutcome.Stopped;
            }

            if (epoch != _epoch.Id)
            {
                return AttachOutcome.EpochChanged;
            }

            if (afterId != _position && (afterId > _position || !_recent.TryCollectAfter(afterId, lane, catchUp)))
            {
                return AttachOutcome.Behind;
            }

            _subscribers.Add(new Attachment(subscriber, lane));
            _idleSinceTimestamp = null;
            return AttachOutcome.Attached;
        }
    }

    public void Detach(Subscriber subscriber)
    {
        lock (_gate)
        {
            if (_subscribers.RemoveAll(attachment => attachment.Subscriber == subscriber) > 0 && _subscribers.Count == 0)
            {
                _idleSinceTimestamp = _time.GetTimestamp();
            }
        }
    }

    /// <summary>
    /// Takes events this process has just committed in epoch <paramref name="epoch"/>, in id order within the call,
    /// and delivers each run once every event before it has been delivered.
    /// </summary>
    public void OnCommitted(string epoch, IReadOnlyList<StoredEvent> events)
    {
        foreach (var run in ContiguousRuns(events))
        {
            var encoded = EncodedEvents.Encode(run, epoch);
            lock (_gate)
            {
                if (epoch != _epoch.Id && _position >= 0 && !_stopped)
                {
                    // A new epoch: the poll reads the head that says how it continues this one.
                    Wake(poll: true);
                    return;
                }

                if (_position < 0 || _stopped || encoded.LastId <= _position)
                {
                    continue;
                }

                if (encoded.FirstId > _position + 1)
                {
                    _ahead[encoded.FirstId] = encoded;
                    _gapSinceTimestamp ??= _time.GetTimestamp();
                }
                else
                {
                    FanOut(encoded);
                }
            }
        }

        bool waiting;
        lock (_gate)
        {
            waiting = _ahead.Count > 0;
        }

        if (waiting)
        {
            // The loop may be asleep for a whole poll interval; let it schedule the read that fills the gap.
            Wake(poll: false);
        }
    }

    /// <summary>
    /// Heartbeats, deadlines and stopping when idle; called by the hub's clock. Returns false once the tail has
    /// stopped.
    /// </summary>
    public bool Housekeep()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return false;
            }

            var now = _time.GetTimestamp();
            _subscribers.RemoveAll(attachment => now >= attachment.Subscriber.DeadlineTimestamp && EndForLifetime(attachment.Subscriber));
            if (_subscribers.Count > 0 && _time.GetElapsedTime(_lastSentTimestamp) >= _heartbeatInterval)
            {
                // A response that carries several streams needs one heartbeat, not one per quiet stream: its first
                // stream's tail sends it. When that stream is busy, its events keep the connection alive instead.
                _subscribers.RemoveAll(attachment => attachment.Lane == 0 && !attachment.Subscriber.TryDeliver(SseFormat.Heartbeat, Outbound.NoEvent, 0));
                _lastSentTimestamp = now;
            }

            if (_subscribers.Count == 0 && _position >= 0)
            {
                _idleSinceTimestamp ??= now;
                _stopped = _time.GetElapsedTime(_idleSinceTimestamp.Value) >= _idleTime;
            }

            if (!_stopped)
            {
                return true;
            }
        }

        _stop.Cancel();
        return false;
    }

    /// <summary>Ends every subscription and stops the loop.</summary>
    public void Stop(SubscriberEnd reason)
    {
        lock (_gate)
        {
            _stopped = true;
            _subscribers.ForEach(attachment => attachment.Subscriber.End(reason));
            _subscribers.Clear();
        }

        _stop.Cancel();
    }

    private static bool EndForLifetime(Subscriber subscriber)
    {
        subscriber.End(SubscriberEnd.Lifetime);
        return true;
    }

    private static IEnumerable<IReadOnlyList<StoredEvent>> ContiguousRuns(IReadOnlyList<StoredEvent> events)
    {
        var start = 0;
        for (var i = 1; i <= events.Count; i++)
        {
            if (i == events.Count || events[i].Id != events[i - 1].Id + 1)
            {
                yield return start == 0 && i == events.Count ? events : events.Skip(start).Take(i - start).ToList();
                start = i;
            }
        }
    }

    /// <summary>Reads the head. False when storage could not be read: the tail has then stopped, and Ready faulted.</summary>
    private async Task<bool> StartAsync(CancellationToken running)
    {
        try
        {
            var head = await _log.GetHeadAsync(Stream, running).ConfigureAwait(false);
            lock (_gate)
            {
                _position = head.LastId;
                _epoch = head.Epoch;
                _lastSentTimestamp = _time.GetTimestamp();
                _idleSinceTimestamp = _time.GetTimestamp();
            }

            _ready.TrySetResult();
            return true;
        }
        catch (Exception exception)
        {
            if (exception is not OperationCanceledException)
            {
                LogStartFailed(exception, Stream.Value);
            }

            lock (_gate)
            {
                _stopped = true;
            }

            _ready.TrySetException(exception);
            return false;
        }
    }

    private TimeSpan DelayUntilDue(long lastPollTimestamp)
    {
        var untilPoll = _pollInterval - _time.GetElapsedTime(lastPollTimestamp);
        lock (_gate)
        {
            if (_gapSinceTimestamp is { } gapSince && GapGrace - _time.GetElapsedTime(gapSince) is var untilGap && untilGap < untilPoll)
            {
                untilPoll = untilGap;
            }
        }

        return untilPoll > TimeSpan.Zero ? untilPoll : TimeSpan.Zero;
    }

    private async Task NapAsync(TimeSpan delay, CancellationToken running)
    {
        var wake = Volatile.Read(ref _wake);
        if (Volatile.Read(ref _pollRequested) == 1 || delay == TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.WhenAny(wake.Task, Task.Delay(delay, _time, running)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Wake(bool poll)
    {
        if (poll)
        {
            Volatile.Write(ref _pollRequested, 1);
        }

        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task PollAsync(CancellationToken running)
    {
        try
        {
            _metrics.TailPolls.Add(1);
            var head = await _log.GetHeadAsync(Stream, running).ConfigureAwait(false);
            long from;
            lock (_gate)
            {
                if (!_stopped)
                {
                    FollowHead(head);
                }

                from = _position;
            }

            if (head.LastId > from)
            {
                await foreach (var page in _log.ReadAsync(Stream, from, head.LastId, running).ConfigureAwait(false))
                {
                    // The log skips events that retention removed, so a page's ids may jump: each contiguous run goes alone.
                    foreach (var run in ContiguousRuns(page))
                    {
                        var encoded = EncodedEvents.Encode(run, head.Epoch.Id);
                        lock (_gate)
                        {
                            // Events this process committed may have been delivered meanwhile.
                            if (encoded.LastId > _position && head.Epoch.Id == _epoch.Id && !_stopped)
                            {
                                if (encoded.FirstId > _position + 1)
                                {
                                    SkipPruned(encoded.FirstId - 1);
                                }

                                FanOut(encoded);
                            }
                        }
                    }
                }
            }

            if (_pollFailing)
            {
                _pollFailing = false;
                LogPollRecovered(Stream.Value);
            }
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception exception)
        {
            // Subscribers stay connected and get heartbeats; the next poll tries again.
            if (!_pollFailing)
            {
                _pollFailing = true;
                LogPollFailed(exception, Stream.Value);
            }
        }
    }

    /// <summary>
    /// Moves to the head's epoch when it changed. When the head shows that events already sent are not in the stored
    /// history any more, every subscriber is told with a <c>bridge.gap</c> event, and the tail continues from where
    /// the two histories part. Called under the lock.
    /// </summary>
    private void FollowHead(StreamHead head)
    {
        bool replaced;
        long resumeAfter;
        if (head.Epoch.Id != _epoch.Id)
        {
            resumeAfter = head.Epoch.ResumePoint(_epoch.Id, _position, out replaced);
        }
        else if (head.LastId < _position)
        {
            // Storage lost events and no writer has noticed yet (it starts a new epoch when it does).
            (resumeAfter, replaced) = (head.LastId, true);
        }
        else
        {
            return;
        }

        var previous = StreamCursor.Format(_position, _epoch.Id);
        _epoch = head.Epoch;
        _recent.Clear();
        _ahead.Clear();
        _gapSinceTimestamp = null;
        if (!replaced)
        {
            return;
        }

        LogHistoryReplaced(Stream.Value, previous, resumeAfter, head.Epoch.Id);
        SendGap(GapReason.HistoryReplaced, previous, resumeAfter);
    }

    /// <summary>
    /// Retention removed events this tail had yet to send (it fell further behind than a stream keeps): its
    /// subscribers are told, and follow on from the oldest event kept. Under the lock.
    /// </summary>
    private void SkipPruned(long resumeAfter)
    {
        var previous = StreamCursor.Format(_position, _epoch.Id);
        LogEventsPruned(Stream.Value, previous, resumeAfter);
        _recent.Clear();
        SendGap(GapReason.EventsPruned, previous, resumeAfter);
    }

    /// <summary>Sends every subscriber a <c>bridge.gap</c> and moves the tail to where the stream resumes. Under the lock.</summary>
    private void SendGap(GapReason reason, string previous, long resumeAfter)
    {
        var notice = new ArrayBufferWriter<byte>(512);
        GapNotice.Write(notice, Stream, reason, previous, resumeAfter, _epoch.Id);
        _position = resumeAfter;
        _lastSentTimestamp = _time.GetTimestamp();
        _subscribers.RemoveAll(attachment => !attachment.Subscriber.TryDeliver(notice.WrittenMemory, resumeAfter, attachment.Lane));
    }

    /// <summary>Sends a run that starts at or before the position, then every waiting run that now follows on.</summary>
    private void FanOut(EncodedEvents run)
    {
        Send(run.FirstId > _position ? run : run.SliceAfter(_position));
        while (_ahead.Count > 0)
        {
            var (firstId, next) = _ahead.First();
            if (firstId > _position + 1)
            {
                break;
            }

            _ahead.Remove(firstId);
            if (next.LastId > _position)
            {
                Send(next.FirstId > _position ? next : next.SliceAfter(_position));
            }
        }

        _gapSinceTimestamp = _ahead.Count > 0 ? _gapSinceTimestamp ?? _time.GetTimestamp() : null;
    }

    private void Send(EncodedEvents run)
    {
        _metrics.DeliveryDelay.Record(Math.Max(0, (_time.GetUtcNow() - run.CommittedAt).TotalSeconds));
        _recent.Add(run);
        _position = run.LastId;
        _lastSentTimestamp = _time.GetTimestamp();
        _subscribers.RemoveAll(attachment => !attachment.Subscriber.TryDeliver(run.Frames, run.LastId, attachment.Lane));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream}'s stored history was replaced after event {Previous} was sent; subscribers resume after {ResumeAfter} in epoch {Epoch}")]
    private partial void LogHistoryReplaced(string stream, string? previous, long resumeAfter, string epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream}: retention removed events after {Previous} before this tail sent them; its subscribers resume after {ResumeAfter}")]
    private partial void LogEventsPruned(string stream, string previous, long resumeAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start following stream {Stream}")]
    private partial void LogStartFailed(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling stream {Stream} failed; live events from other processes wait until storage answers")]
    private partial void LogPollFailed(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Information, Message = "Polling stream {Stream} works again")]
    private partial void LogPollRecovered(string stream);
}

/// <summary>A subscriber registered with a tail, and which of its response's streams the tail's stream is.</summary>
internal readonly record struct Attachment(Subscriber Subscriber, int Lane);

/// <summary>The result of <see cref="StreamTail.TryAttach"/>.</summary>
internal enum AttachOutcome
{
    /// <summary>Registered: live events follow.</summary>
    Attached,

    /// <summary>The subscriber is further behind than the tail's memory: replay from storage first.</summary>
    Behind,

    /// <summary>The tail stopped: get a new one from the hub.</summary>
    Stopped,

    /// <summary>The stream's epoch is not the one asked for: find where the subscriber resumes in the tail's epoch.</summary>
    EpochChanged,
}
