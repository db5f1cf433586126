using Bridge.Events;
using Bridge.Hub;

namespace Bridge.Subscribers;

/// <summary>One stream of a response, and where the response stands in it.</summary>
/// <param name="index">The stream's place in the response (0 when it carries one stream).</param>
/// <param name="stream">The stream.</param>
/// <param name="cursor">Where the client asked to resume in it.</param>
internal sealed class SessionLane(int index, StreamName stream, StreamCursor cursor)
{
    public int Index { get; } = index;

    public StreamName Stream { get; } = stream;

    public StreamCursor Cursor { get; } = cursor;

    /// <summary>The stream's tail in this process, once found; null again once the response has detached from it.</summary>
    public StreamTail? Tail { get; set; }

    /// <summary>The epoch of the ids written for this stream.</summary>
    public string Epoch { get; set; } = string.Empty;

    /// <summary>The id the client's cursor stands at in this stream.</summary>
    public long LastWrittenId { get; set; }
}
