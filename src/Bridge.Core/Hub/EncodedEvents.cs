using System.Buffers;
using Bridge.Events;
using Bridge.Sse;

namespace Bridge.Hub;

/// <summary>
/// A contiguous run of events encoded once as SSE, shared by every subscriber of the stream in this process.
/// </summary>
internal sealed class EncodedEvents
{
    private readonly int[] _offsets;

    private EncodedEvents(long firstId, ReadOnlyMemory<byte> frames, int[] offsets, DateTimeOffset committedAt)
    {
        FirstId = firstId;
        Frames = frames;
        _offsets = offsets;
        CommittedAt = committedAt;
    }

    public long FirstId { get; }

    /// <summary>When the run's last event was committed, by its writer's clock.</summary>
    public DateTimeOffset CommittedAt { get; }

    public long LastId => FirstId + _offsets.Length - 1;

    /// <summary>The SSE blocks of all the events, back to back.</summary>
    public ReadOnlyMemory<byte> Frames { get; }

    /// <summary>Encodes events whose ids follow one another, in epoch <paramref name="epoch"/>.</summary>
    public static EncodedEvents Encode(IReadOnlyList<StoredEvent> events, string epoch)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, events.Count * 64));
        var offsets = new int[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            offsets[i] = output.WrittenCount;
            SseFormat.WriteEvent(output, events[i].Id, epoch, events[i].Type, events[i].Data.Span);
        }

        return new EncodedEvents(events[0].Id, output.WrittenMemory, offsets, events[^1].StoredAt);
    }

    /// <summary>The part of this run after <paramref name="afterId"/>, which must lie inside it.</summary>
    public EncodedEvents SliceAfter(long afterId)
    {
        var skip = (int)(afterId - FirstId + 1);
        var start = _offsets[skip];
        return new EncodedEvents(afterId + 1, Frames[start..], [.. _offsets[skip..].Select(offset => offset - start)], CommittedAt);
    }

    /// <summary>The blocks of the events after <paramref name="afterId"/>, which must lie in this run.</summary>
    public ReadOnlyMemory<byte> After(long afterId) =>
        afterId < FirstId ? Frames : Frames[_offsets[afterId - FirstId + 1]..];
}
