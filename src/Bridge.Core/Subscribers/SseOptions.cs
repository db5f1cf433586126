using System.ComponentModel.DataAnnotations;

namespace Bridge.Subscribers;

/// <summary>Settings of each Server-Sent Events response, bound from the <c>Sse</c> section.</summary>
public sealed class SseOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Sse";

    /// <summary>
    /// The longest a response lasts, in seconds (<c>Sse__MaxDurationSeconds</c>). Each response picks a length between
    /// 80 % and 100 % of it at random, so clients do not reconnect in lock-step. Keep it well under the request
    /// timeout of any gateway or front end in front of the server, which would otherwise cut responses itself.
    /// </summary>
    [Range(1, 86_400)]
    public int MaxDurationSeconds { get; set; } = 120;

    /// <summary>Seconds without events after which a heartbeat comment is sent (<c>Sse__HeartbeatSeconds</c>).</summary>
    [Range(1, 3_600)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>The reconnection delay sent in the <c>retry:</c> field, in milliseconds (<c>Sse__RetryMilliseconds</c>).</summary>
    [Range(0, 600_000)]
    public int RetryMilliseconds { get; set; } = 3_000;

    /// <summary>
    /// When the process stops (a deploy, a scale-in), each open response ends with a <c>retry:</c> of a random
    /// 0–this many milliseconds instead of <see cref="RetryMilliseconds"/>, so its client reconnects to another
    /// instance at once, and the clients of one instance spread their reconnections over this window
    /// (<c>Sse__ShutdownRetryMilliseconds</c>).
    /// </summary>
    [Range(0, 600_000)]
    public int ShutdownRetryMilliseconds { get; set; } = 1_000;

    /// <summary>
    /// Bytes of events that may wait for one slow client (<c>Sse__SubscriberBufferBytes</c>). Past it the client is
    /// disconnected; it resumes from storage when it reconnects, so nothing is lost and memory stays bounded.
    /// </summary>
    [Range(4_096, 256 * 1024 * 1024)]
    public int SubscriberBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The operating system's send buffer for each Server-Sent Events connection, in bytes
    /// (<c>Sse__SocketSendBufferBytes</c>); 0 leaves the system's own, which can grow to megabytes. What sits there is
    /// out of the server's sight: a client that reads slowly can keep a response open long after its lifetime while it
    /// works through it. Bounding it makes such a client overflow its buffer and be cut off instead. 64 KiB still
    /// carries about a megabyte a second to a client 100 ms away. Applied where the server owns the socket (the
    /// standalone server on HTTP/1.1).
    /// </summary>
    [Range(0, 64 * 1024 * 1024)]
    public int SocketSendBufferBytes { get; set; } = 64 * 1024;
}
