namespace Bridge.Events;

/// <summary>
/// The durable, ordered log of each stream's events. Implementations guarantee that ids are gap-free and in commit
/// order even with many writers in many processes, and that an idempotency key is stored once. When storage loses
/// acknowledged events, the writer that notices starts a new <see cref="StreamEpoch"/> before reusing their ids.
/// </summary>
public interface IEventLog
{
    /// <summary>The most new events one append call may hold to be committed atomically, with contiguous ids.</summary>
    const int MaxAtomicEvents = 99;

    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="stream"/> in the given order. Events whose idempotency key
    /// the stream already holds (or that repeat a key earlier in the same call) are not stored again.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The ids of one call's new events always increase in the call's order. Whether they are also contiguous depends
    /// on the call's size, because a durable log commits in transactions of bounded size:
    /// </para>
    /// <list type="bullet">
    /// <item>A call of at most <see cref="MaxAtomicEvents"/> new events (and at most 4 MiB as stored) commits
    /// atomically: all of its events or none, with contiguous ids, even when other processes append to the stream at
    /// the same time.</item>
    /// <item>A larger call may be committed in several transactions. Its ids still increase, but another process may
    /// commit between two of them, so they need not be contiguous; and if storage fails part-way, the transactions
    /// already committed stay (a retry with the same idempotency keys stores the rest exactly once).</item>
    /// </list>
    /// <para>Within one process, calls to the same stream are committed in the order they were made.</para>
    /// </remarks>
    /// <returns>One result per event, in the same order.</returns>
    /// <exception cref="EventLogUnavailableException">
    /// Storage could not be reached or refused the write. Some events may have been stored; retrying with the same
    /// idempotency keys stores each exactly once.
    /// </exception>
    Task<IReadOnlyList<AppendResult>> AppendAsync(
        StreamName stream,
        IReadOnlyList<NewEvent> events,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The id of the last event committed to <paramref name="stream"/> (0 when it has none), and the epoch it belongs
    /// to. A head whose id went backwards, or whose epoch changed, means the stored history was replaced.
    /// </summary>
    /// <exception cref="EventLogUnavailableException">Storage could not be reached.</exception>
    Task<StreamHead> GetHeadAsync(StreamName stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the events with ids in (<paramref name="afterId"/>, <paramref name="throughId"/>], in order, a page at a
    /// time. Every id up to <paramref name="throughId"/> must already be committed. Events that the log's retention
    /// removed are skipped, so the ids jump where they were (the first event may come after
    /// <paramref name="afterId"/> + 1, or none at all); any other missing event is an error.
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
