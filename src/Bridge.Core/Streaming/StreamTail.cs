using Bridge.Events;
using Bridge.Sse;
using Microsoft.Extensions.Logging;

namespace Bridge.Streaming;

/// <summary>
/// Follows one stream for this process and fans its new events out to every subscriber here. There is one tail per
/// active stream per process, so storage reads grow with streams and processes, never with connections.
/// </summary>
/// <remarks>
/// <para>
/// The tail reads the stream's head every poll interval and, when it has moved, the new events. Events committed by
/// this process arrive at once through <see cref="OnLocalCommit"/> instead. Either way each event is encoded once and
/// its bytes are shared by all subscribers.
/// </para>
/// <para>
/// The same loop, about once a second, sends heartbeats when the stream has been quiet and ends subscriptions that
/// reached their deadline, so a connection needs no timer of its own. A tail with no subscribers stops after
/// <see cref="TailOptions.IdleSeconds"/>.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "Its CancellationTokenSource has no timer and holds nothing unmanaged; Stop may cancel it at any time.")]
internal sealed partial class StreamTail
{
    private static readonly TimeSpan MaxTick = TimeSpan.FromSeconds(1);

    private readonly StreamHub _hub;
    private readonly IEventLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _heartbeatInterval;
    private readonly TimeSpan _idleTime;

    private readonly Lock _gate = new();
    private readonly List<Subscriber> _subscribers = []; // guarded by _gate
    private readonly RecentEvents _recent;                // guarded by _gate
    private long _position = -1;                          // guarded by _gate; -1 until the first head read
    private long _lastSentTimestamp;                      // guarded by _gate
    private long? _idleSinceTimestamp;                    // guarded by _gate
    private bool _stopped;                                // guarded by _gate
    private TaskCompletionSource? _pollWaiters;           // guarded by _gate

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _wakeRequested;
    private int _started;
    private bool _pollFailing;

    public StreamTail(StreamName stream, StreamHub hub, IEventLog log, TailOptions tail, SseOptions sse, TimeProvider time, ILogger logger)
    {
        Stream = stream;
        _hub = hub;
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

    /// <summary>Starts the tail's loop, once.</summary>
    public void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(RunAsync);
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

        Wake();
        return polled.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Registers <paramref name="subscriber"/> for the events after <paramref name="afterId"/>. Events the tail still
    /// holds in memory are put in <paramref name="catchUp"/>, for the caller to write first.
    /// </summary>
    public AttachOutcome TryAttach(Subscriber subscriber, long afterId, List<Outbound> catchUp)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return AttachOutcome.Stopped;
            }

            if (afterId != _position && (afterId > _position || !_recent.TryCollectAfter(afterId, catchUp)))
            {
                return AttachOutcome.Behind;
            }

            _subscribers.Add(subscriber);
            _idleSinceTimestamp = null;
            return AttachOutcome.Attached;
        }
    }

    public void Detach(Subscriber subscriber)
    {
        lock (_gate)
        {
            if (_subscribers.Remove(subscriber) && _subscribers.Count == 0)
            {
                _idleSinceTimestamp = _time.GetTimestamp();
            }
        }
    }

    /// <summary>Delivers events this process just committed, unless events from elsewhere must come first.</summary>
    public void OnLocalCommit(IReadOnlyList<StoredEvent> events)
    {
        var encoded = EncodedEvents.Encode(events);
        lock (_gate)
        {
            if (_position < 0 || _stopped || encoded.LastId <= _position)
            {
                return;
            }

            if (encoded.FirstId == _position + 1)
            {
                FanOut(encoded);
                return;
            }
        }

        // Events committed by other processes lie between: read them (and these) from storage now.
        Wake();
    }

    /// <summary>Ends every subscription and stops the loop.</summary>
    public void Stop(SubscriberEnd reason)
    {
        lock (_gate)
        {
            _stopped = true;
            _subscribers.ForEach(subscriber => subscriber.End(reason));
            _subscribers.Clear();
        }

        _stopping.Cancel();
        Wake();
    }

    private async Task RunAsync()
    {
        try
        {
            var head = await _log.GetLastIdAsync(Stream, _stopping.Token).ConfigureAwait(false);
            lock (_gate)
            {
                _position = head;
                _lastSentTimestamp = _time.GetTimestamp();
                _idleSinceTimestamp = _time.GetTimestamp();
            }

            _ready.TrySetResult();
        }
        catch (Exception exception)
        {
            LogStartFailed(exception, Stream.Value);
            _ready.TrySetException(exception);
            lock (_gate)
            {
                _stopped = true;
            }

            _hub.Remove(this);
            return;
        }

        var tick = _pollInterval < MaxTick ? _pollInterval : MaxTick;
        var lastPollTimestamp = _time.GetTimestamp();
        while (!_stopping.IsCancellationRequested)
        {
            await NapAsync(tick).ConfigureAwait(false);
            TaskCompletionSource? waiters;
            lock (_gate)
            {
                waiters = _pollWaiters;
                _pollWaiters = null;
            }

            var woken = Interlocked.Exchange(ref _wakeRequested, 0) == 1;
            if (woken || waiters is not null || _time.GetElapsedTime(lastPollTimestamp) >= _pollInterval)
            {
                lastPollTimestamp = _time.GetTimestamp();
                await PollAsync().ConfigureAwait(false);
            }

            waiters?.TrySetResult();
            if (!Housekeep())
            {
                return;
            }
        }
    }

    private async Task NapAsync(TimeSpan tick)
    {
        var wake = Volatile.Read(ref _wake);
        if (Volatile.Read(ref _wakeRequested) == 1)
        {
            return;
        }

        try
        {
            await Task.WhenAny(wake.Task, Task.Delay(tick, _time, _stopping.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Wake()
    {
        Volatile.Write(ref _wakeRequested, 1);
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task PollAsync()
    {
        try
        {
            var head = await _log.GetLastIdAsync(Stream, _stopping.Token).ConfigureAwait(false);
            var from = Position;
            if (head > from)
            {
                await foreach (var page in _log.ReadAsync(Stream, from, head, _stopping.Token).ConfigureAwait(false))
                {
                    var encoded = EncodedEvents.Encode(page);
                    lock (_gate)
                    {
                        // Local commits may have delivered part of this page meanwhile.
                        if (encoded.LastId > _position && !_stopped)
                        {
                            FanOut(encoded.FirstId > _position ? encoded : encoded.SliceAfter(_position));
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
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
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

    private void FanOut(EncodedEvents run)
    {
        _recent.Add(run);
        _position = run.LastId;
        _lastSentTimestamp = _time.GetTimestamp();
        _subscribers.RemoveAll(subscriber => !subscriber.TryDeliver(run.Frames, run.LastId));
    }

    /// <summary>Heartbeats, deadlines and stopping when idle. Returns false once the tail has stopped.</summary>
    private bool Housekeep()
    {
        bool stopped;
        lock (_gate)
        {
            if (_stopped)
            {
                return false;
            }

            var now = _time.GetTimestamp();
            _subscribers.RemoveAll(subscriber => now >= subscriber.DeadlineTimestamp && EndForLifetime(subscriber));
            if (_subscribers.Count > 0 && _time.GetElapsedTime(_lastSentTimestamp) >= _heartbeatInterval)
            {
                _subscribers.RemoveAll(subscriber => !subscriber.TryDeliver(SseFormat.Heartbeat, 0));
                _lastSentTimestamp = now;
            }

            if (_subscribers.Count == 0)
            {
                _idleSinceTimestamp ??= now;
                _stopped = _time.GetElapsedTime(_idleSinceTimestamp.Value) >= _idleTime;
            }

            stopped = _stopped;
        }

        if (stopped)
        {
            _hub.Remove(this);
        }

        return !stopped;
    }

    private static bool EndForLifetime(Subscriber subscriber)
    {
        subscriber.End(SubscriberEnd.Lifetime);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start following stream {Stream}")]
    private partial void LogStartFailed(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling stream {Stream} failed; live events from other processes wait until storage answers")]
    private partial void LogPollFailed(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Information, Message = "Polling stream {Stream} works again")]
    private partial void LogPollRecovered(string stream);
}

/// <summary>The result of <see cref="StreamTail.TryAttach"/>.</summary>
internal enum AttachOutcome
{
    /// <summary>Registered: live events follow.</summary>
    Attached,

    /// <summary>The subscriber is further behind than the tail's memory: replay from storage first.</summary>
    Behind,

    /// <summary>The tail stopped: get a new one from the hub.</summary>
    Stopped,
}
