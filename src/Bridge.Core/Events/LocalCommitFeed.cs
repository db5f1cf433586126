namespace Bridge.Events;

/// <summary>
/// Announces, inside one process, the events that this process has just committed, so that live subscribers here
/// receive them without waiting for the next storage poll. Events committed by other processes arrive through polling.
/// </summary>
public sealed class LocalCommitFeed
{
    /// <summary>Raised after each commit with the committed events, in id order, contiguous.</summary>
    public event Action<StreamName, IReadOnlyList<StoredEvent>>? Committed;

    /// <summary>Announces a commit. Called by event log implementations.</summary>
    public void Announce(StreamName stream, IReadOnlyList<StoredEvent> events) => Committed?.Invoke(stream, events);
}
