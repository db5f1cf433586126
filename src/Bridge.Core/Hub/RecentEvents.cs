using Bridge.Subscribers;

namespace Bridge.Hub;

/// <summary>
/// The last encoded events of a stream, up to a byte budget, so that a client reconnecting slightly behind is served
/// from memory. Runs are kept in id order with no gaps; the newest always ends at the tail's position.
/// </summary>
internal sealed class RecentEvents(int capacityBytes)
{
    private readonly Queue<EncodedEvents> _runs = new();
    private long _bytes;

    public void Add(EncodedEvents run)
    {
        if (capacityBytes == 0)
        {
            return;
        }

        _runs.Enqueue(run);
        _bytes += run.Frames.Length;
        while (_bytes > capacityBytes && _runs.Count > 1)
        {
            _bytes -= _runs.Dequeue().Frames.Length;
        }
    }

    /// <summary>Forgets every event, when the stream's history was replaced and their ids now name other events.</summary>
    public void Clear()
    {
        _runs.Clear();
        _bytes = 0;
    }

    /// <summary>
    /// Collects the events after <paramref name="afterId"/>, tagged with <paramref name="lane"/>, when all of them are
    /// still held; false when some are not.
    /// </summary>
    public bool TryCollectAfter(long afterId, int lane, List<Outbound> into)
    {
        if (!_runs.TryPeek(out var oldest) || oldest.FirstId > afterId + 1)
        {
            return false;
        }

        foreach (var run in _runs)
        {
            if (run.LastId > afterId)
            {
                into.Add(new Outbound(run.After(afterId), run.LastId, lane));
            }
        }

        return true;
    }
}
