namespace Bridge.Events;

/// <summary>
/// The durable, ordered log of each stream's events. Implementations guarantee that ids are gap-free and in commit
/// order even with many writers in many processes, and that an idempotency key is stored once.
/// </summary>
public interface IEventLog
{
    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="stream"/> in the given order. Events whose idempotency key
    /// the stream already holds (or that repeat a key earlier in the same call) are not stored again.
    /// </summary>
    /// <returns>One result per event, in the same order.</returns>
    /// <exception cref="EventLogUnavailableException">
    /// Storage could not be reached or refused the write. Some events may have been stored; retrying with the same
    /// idempotency keys stores each exactly once.
    /// </exception>
    Task<IReadOnlyList<AppendResult>> AppendAsync(
        StreamName stream,
        IReadOnlyList<NewEvent> events,
        CancellationToken cancellationToken = default);

    /// <summary>The id of the last event committed to <paramref name="stream"/>, or 0 when it has none.</summary>
    /// <exception cref="EventLogUnavailableException">Storage could not be reached.</exception>
    Task<long> GetLastIdAsync(StreamName stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the events with ids in (<paramref name="afterId"/>, <paramref name="throughId"/>], in order, a page at a
    /// time. Every id up to <paramref name="throughId"/> must already be committed.
    /// </summary>
    /// <exception cref="EventLogUnavailableException">Storage could not be reached.</exception>
    IAsyncEnumerable<IReadOnlyList<StoredEvent>> ReadAsync(
        StreamName stream,
        long afterId,
        long throughId,
        CancellationToken cancellationToken = default);
}

/// <summary>
/// The event log's storage is unreachable, throttling, or refused the request. The operation may succeed if retried
/// later; the inner exception says what storage answered.
/// </summary>
public sealed class EventLogUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventLogUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
