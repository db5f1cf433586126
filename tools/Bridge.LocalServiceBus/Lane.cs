namespace Bridge.LocalServiceBus;

/// <summary>
/// Messages waiting in sequence-number order. A subscription without sessions has one lane that all its receivers
/// share; a session-enabled subscription has a lane per session, which one receiver at a time holds with a session lock.
/// </summary>
internal sealed class Lane(string? sessionId)
{
    /// <summary>Ordered by sequence number, so a message whose lock expires goes back to its place, not to the end.</summary>
    public SortedDictionary<long, QueuedMessage> Available { get; } = [];

    public string? SessionId { get; } = sessionId;

    /// <summary>The receiver holding the session lock; always null on a lane without a session.</summary>
    public Receiver? Holder { get; set; }

    public DateTimeOffset LockedUntil { get; set; }

    public byte[]? State { get; set; }

    public long? OldestSequenceNumber => Available.Count == 0 ? null : Available.First().Key;
}
