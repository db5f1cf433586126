using System.Threading.Channels;

namespace Bridge.Streaming;

/// <summary>SSE bytes on their way to one client, and the id of the last event they carry (0 for a heartbeat).</summary>
internal readonly record struct Outbound(ReadOnlyMemory<byte> Bytes, long LastId);

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
internal sealed class Subscriber(long deadlineTimestamp, int bufferLimitBytes, Action onOverflow)
{
    private readonly Channel<Outbound> _queue = Channel.CreateUnbounded<Outbound>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private long _pendingBytes;
    private int _ended;

    /// <summary>When the response must end, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long DeadlineTimestamp { get; } = deadlineTimestamp;

    /// <summary>Why the subscription ended, once it has.</summary>
    public SubscriberEnd? EndReason { get; private set; }

    public ChannelReader<Outbound> Reader => _queue.Reader;

    /// <summary>
    /// Queues bytes for the client. False when the subscription has ended, including by this overflow. One run of
    /// events is always accepted into an empty queue, however large (a transaction can encode to megabytes): the
    /// limit bounds what waits behind it.
    /// </summary>
    public bool TryDeliver(ReadOnlyMemory<byte> bytes, long lastId)
    {
        var pending = Interlocked.Add(ref _pendingBytes, bytes.Length);
        if (pending > bufferLimitBytes && pending != bytes.Length)
        {
            if (End(SubscriberEnd.Overflow))
            {
                onOverflow();
            }

            return false;
        }

        return _queue.Writer.TryWrite(new Outbound(bytes, lastId));
    }

    /// <summary>Records that the response has taken <paramref name="bytes"/> off the queue.</summary>
    public void Consumed(int bytes) => Interlocked.Add(ref _pendingBytes, -bytes);

    /// <summary>Ends the subscription once; the response writes what is queued and then finishes.</summary>
    public bool End(SubscriberEnd reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        EndReason = reason;
        _queue.Writer.TryComplete();
        return true;
    }
}
