using System.Threading.Tasks.Sources;

namespace Bridge.Subscribers;

/// <summary>
/// SSE bytes on their way to one client, the id they leave their stream's cursor at (<see cref="NoEvent"/> for a
/// heartbeat, which leaves it alone), and which of the response's streams they belong to (0 when it has one).
/// </summary>
internal readonly record struct Outbound(ReadOnlyMemory<byte> Bytes, long LastId, int Lane)
{
    public const long NoEvent = -1;
}

/// <summary>Why a live subscription ended.</summary>
internal enum SubscriberEnd
{
    /// <summary>The response reached its bounded lifetime.</summary>
    Lifetime,

    /// <summary>The client read too slowly and its buffer overflowed.</summary>
    Overflow,

    /// <summary>The client went away.</summary>
    Disconnected,

    /// <summary>The process is shutting down.</summary>
    Shutdown,
}

/// <summary>
/// One connected client's queue of live events. The stream's tail fills it; the client's response drains it. Memory is
/// bounded: past <see cref="SseOptions.SubscriberBufferBytes"/> waiting, the subscription ends and the client resumes
/// from storage on its next connection.
/// </summary>
/// <remarks>
/// A subscriber lives as long as its connection, so it is kept small: a ring of a few slots that grows only when the
/// client falls behind, and itself as the awaitable the response waits on, so waiting allocates nothing.
/// (A <c>Channel&lt;T&gt;</c> costs about 1.4 KB per connection.) Continuations always run asynchronously, so the
/// tail, which delivers under its lock, never runs a response's code.
/// </remarks>
internal sealed class Subscriber(long deadlineTimestamp, int bufferLimitBytes, Action onEnd) : IValueTaskSource<bool>
{
    private readonly Lock _gate = new();
    private Outbound[] _ring = new Outbound[4]; // guarded by _gate
    private int _head;                           // guarded by _gate
    private int _count;                          // guarded by _gate
    private bool _waiting;                       // guarded by _gate
    private bool _ended;                         // guarded by _gate
    private long _pendingBytes;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };

    /// <summary>When the response must end, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long DeadlineTimestamp { get; } = deadlineTimestamp;

    /// <summary>Why the subscription ended, once it has.</summary>
    public SubscriberEnd? EndReason { get; private set; }

    /// <summary>
    /// Queues bytes for the client. False when the subscription has ended, including by this overflow. One run of
    /// events is always accepted into an empty queue, however large (a transaction can encode to megabytes): the
    /// limit bounds what waits behind it.
    /// </summary>
    public bool TryDeliver(ReadOnlyMemory<byte> bytes, long lastId, int lane)
    {
        var pending = Interlocked.Add(ref _pendingBytes, bytes.Length);
        if (pending > bufferLimitBytes && pending != bytes.Length)
        {
            End(SubscriberEnd.Overflow);
            return false;
        }

        bool wake;
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            if (_count == _ring.Length)
            {
                Grow();
            }

            _ring[(_head + _count) % _ring.Length] = new Outbound(bytes, lastId, lane);
            _count++;
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _signal.SetResult(true);
        }

        return true;
    }

    /// <summary>
    /// Completes with true when something can be read, or false once the subscription has ended and everything
    /// queued before the end has been read. One reader only.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_gate)
        {
            if (_count > 0 || _ended)
            {
                return new ValueTask<bool>(_count > 0);
            }

            _signal.Reset();
            _waiting = true;
        }

        return new ValueTask<bool>(this, _signal.Version);
    }

    public bool TryRead(out Outbound outbound)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                outbound = default;
                return false;
            }

            outbound = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            return true;
        }
    }

    /// <summary>Records that the response has taken <paramref name="bytes"/> off the queue.</summary>
    public void Consumed(int bytes) => Interlocked.Add(ref _pendingBytes, -bytes);

    /// <summary>
    /// Ends the subscription once, and calls back so that a write waiting on a slow client stops waiting: the response
    /// then finishes with what is queued, or is cut off after an overflow.
    /// </summary>
    public bool End(SubscriberEnd reason)
    {
        bool wake;
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            _ended = true;
            EndReason = reason;
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _signal.SetResult(false);
        }

        onEnd();
        return true;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);

    private void Grow()
    {
        var larger = new Outbound[_ring.Length * 2];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }
}
