using System.Buffers;
using System.Text.Json;
using Bridge.Events;
using Bridge.Subscribers;

namespace Bridge.Sse;

/// <summary>Why a subscriber's cursor could not be honoured.</summary>
public enum GapReason
{
    /// <summary>The cursor is not a non-negative integer.</summary>
    MalformedCursor,

    /// <summary>The cursor is beyond the last event, as after the stream's storage was reset.</summary>
    CursorAheadOfStream,

    /// <summary>
    /// The stream's stored history was replaced after the cursor's events were sent (storage lost acknowledged
    /// writes), so events after <c>resumeAfter</c> that the client holds are void.
    /// </summary>
    HistoryReplaced,

    /// <summary>
    /// Events after the cursor are no longer kept: the stream's retention removed them. <c>resumeAfter</c> is the id
    /// before the oldest event still kept.
    /// </summary>
    EventsPruned,
}

/// <summary>
/// The <c>bridge.gap</c> event, sent instead of an error status when a cursor cannot be honoured, because a browser
/// that receives an error stops reconnecting for good. Its id moves the client's cursor to where the stream resumes;
/// its data says what was asked for and why it could not be honoured.
/// </summary>
public static class GapNotice
{
    /// <summary>Writes the notice as one SSE event with id <paramref name="resumeAfter"/>.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="stream">The stream whose events are missing, named in the notice for responses that carry several.</param>
    /// <param name="reason">Why the cursor was not honoured.</param>
    /// <param name="requested">The cursor as received (already shortened for echoing).</param>
    /// <param name="resumeAfter">The id after which events follow.</param>
    /// <param name="epoch">The stream's epoch, which the notice's id carries.</param>
    public static void Write(IBufferWriter<byte> output, StreamName stream, GapReason reason, string? requested, long resumeAfter, string epoch)
    {
        var data = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(data))
        {
            json.WriteStartObject();
            json.WriteString("stream", stream.Value);
            json.WriteString("reason", reason switch
            {
                GapReason.MalformedCursor => "malformed-cursor",
                GapReason.CursorAheadOfStream => "cursor-ahead-of-stream",
                GapReason.EventsPruned => "events-pruned",
                _ => "history-replaced",
            });
            json.WriteString("requested", requested);
            json.WriteNumber("resumeAfter", resumeAfter);
            if (reason == GapReason.EventsPruned)
            {
                json.WriteNumber("oldestKept", resumeAfter + 1);
            }

            json.WriteString("message", reason switch
            {
                GapReason.MalformedCursor =>
                    "The requested event id is not an event id of this stream. Events resume after the last event of the stream; reload any state built from earlier events.",
                GapReason.CursorAheadOfStream =>
                    "The requested event id is beyond the end of the stream. Events resume after the last event of the stream; reload any state built from earlier events.",
                GapReason.EventsPruned =>
                    "Events after the requested id are no longer kept: the stream's retention removed them. Events resume at 'oldestKept', the oldest event still kept; reload any state built from earlier events.",
                _ =>
                    "The stream's stored history was replaced: storage lost events that had been sent. Drop the events you hold after 'resumeAfter'; the stream's events from there on follow.",
            });
            json.WriteEndObject();
        }

        SseFormat.WriteEvent(output, resumeAfter, epoch, EventType.Gap, data.WrittenSpan);
    }

    /// <summary>The cursor as echoed in a notice.</summary>
    internal static string? Echo(StreamCursor cursor) =>
        cursor.Malformed ?? (cursor.Position is { } position ? StreamCursor.Format(position, cursor.Epoch ?? string.Empty) : null);
}
