namespace Bridge.Events;

/// <summary>An event as stored in a stream.</summary>
/// <param name="Id">Its position in the stream: 1, 2, 3, … with no gaps, in commit order.</param>
/// <param name="Type">Its type.</param>
/// <param name="Data">Its data (UTF-8 text).</param>
/// <param name="StoredAt">When the writer committed it.</param>
/// <param name="IdempotencyKey">The key it was appended with, if any.</param>
public sealed record StoredEvent(
    long Id,
    EventType Type,
    ReadOnlyMemory<byte> Data,
    DateTimeOffset StoredAt,
    string? IdempotencyKey);

/// <summary>The outcome of appending one event.</summary>
/// <param name="Id">The event's id: new, or the original one for a duplicate.</param>
/// <param name="IsDuplicate">True when the idempotency key was already stored, so nothing new was written.</param>
/// <param name="Epoch">The name of the stream's epoch (<see cref="StreamEpoch"/>) that the id belongs to.</param>
public readonly record struct AppendResult(long Id, bool IsDuplicate, string Epoch);
