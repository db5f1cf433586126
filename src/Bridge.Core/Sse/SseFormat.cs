using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Bridge.Events;

namespace Bridge.Sse;

/// <summary>
/// Writes the Server-Sent Events wire format (WHATWG HTML, "Server-sent events") as UTF-8.
/// </summary>
/// <remarks>
/// <para>Every block ends with a blank line, so a browser never holds half an event when a response ends.</para>
/// <para>
/// Data is split at every CR, LF and CRLF into separate <c>data:</c> lines, which a browser joins with LF. So CR and
/// CRLF inside data arrive as LF, and no byte of the data can start a new field. Ids are a number and an epoch name of
/// letters and digits, and event types are validated by <see cref="EventType"/>, so neither can carry a line break.
/// </para>
/// <para>
/// System.Net.ServerSentEvents.SseFormatter is not used because it cannot write comments (heartbeats) and formats
/// per connection, whereas Bridge encodes each event once and shares the bytes among all its subscribers.
/// </para>
/// </remarks>
public static class SseFormat
{
    /// <summary>A comment block that keeps idle connections open through proxies.</summary>
    public static ReadOnlyMemory<byte> Heartbeat { get; } = ": heartbeat\n\n"u8.ToArray();

    /// <summary>
    /// Writes the block that opens every response: the <c>retry:</c> hint and, when given, an <c>id:</c> that sets
    /// the browser's last event id without dispatching an event. That id lets a client that connected without a
    /// cursor resume from the right place even if no event arrives before the response ends.
    /// </summary>
    public static void WritePreamble(IBufferWriter<byte> output, int retryMilliseconds, long? lastEventId, string epoch)
    {
        WriteRetryField(output, retryMilliseconds);
        if (lastEventId is { } id)
        {
            WriteId(output, id, epoch);
        }

        output.Write("\n"u8);
    }

    /// <summary>Writes the opening block with an id already formatted, such as a multi-stream cursor.</summary>
    public static void WritePreamble(IBufferWriter<byte> output, int retryMilliseconds, ReadOnlySpan<byte> lastEventId)
    {
        WriteRetryField(output, retryMilliseconds);
        output.Write("id: "u8);
        output.Write(lastEventId);
        output.Write("\n\n"u8);
    }

    /// <summary>
    /// Writes one event: <c>id:</c>, <c>event:</c> unless the type is the default, the data, a blank line. The id is
    /// <c>{id}.{epoch}</c>, or the bare number when the stream has no epoch (<see cref="StreamEpoch"/>).
    /// </summary>
    public static void WriteEvent(IBufferWriter<byte> output, long id, string epoch, EventType type, ReadOnlySpan<byte> data)
    {
        WriteId(output, id, epoch);
        WriteEvent(output, type, data);
    }

    /// <summary>Writes an event without an id, which leaves the client's last event id as it was.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, EventType type, ReadOnlySpan<byte> data)
    {
        if (!type.IsMessage)
        {
            output.Write("event: "u8);
            WriteAscii(output, type.Value);
            output.Write("\n"u8);
        }

        WriteDataLines(output, data);
        output.Write("\n"u8);
    }

    /// <summary>
    /// Writes a block with only a <c>retry:</c> field: it changes the client's reconnection delay and dispatches no
    /// event.
    /// </summary>
    public static void WriteRetry(IBufferWriter<byte> output, int retryMilliseconds)
    {
        WriteRetryField(output, retryMilliseconds);
        output.Write("\n"u8);
    }

    /// <summary>Writes a comment block. The text is Bridge's own and must not contain line breaks.</summary>
    public static void WriteComment(IBufferWriter<byte> output, string text)
    {
        if (text.AsSpan().ContainsAny('\r', '\n'))
        {
            throw new ArgumentException("A comment must be a single line.", nameof(text));
        }

        output.Write(": "u8);
        var length = Encoding.UTF8.GetByteCount(text);
        var written = Encoding.UTF8.GetBytes(text, output.GetSpan(length));
        output.Advance(written);
        output.Write("\n\n"u8);
    }

    private static void WriteDataLines(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        while (true)
        {
            output.Write("data: "u8);
            var lineEnd = data.IndexOfAny((byte)'\r', (byte)'\n');
            if (lineEnd < 0)
            {
                output.Write(data);
                output.Write("\n"u8);
                return;
            }

            output.Write(data[..lineEnd]);
            output.Write("\n"u8);
            var isCrLf = data[lineEnd] == '\r' && lineEnd + 1 < data.Length && data[lineEnd + 1] == '\n';
            data = data[(lineEnd + (isCrLf ? 2 : 1))..];
        }
    }

    private static void WriteRetryField(IBufferWriter<byte> output, int retryMilliseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retryMilliseconds);
        output.Write("retry: "u8);
        WriteNumber(output, retryMilliseconds);
        output.Write("\n"u8);
    }

    private static void WriteId(IBufferWriter<byte> output, long id, string epoch)
    {
        output.Write("id: "u8);
        WriteNumber(output, id);
        if (epoch.Length > 0)
        {
            output.Write("."u8);
            WriteAscii(output, epoch);
        }

        output.Write("\n"u8);
    }

    private static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        var written = Encoding.ASCII.GetBytes(ascii, span);
        output.Advance(written);
    }
}
