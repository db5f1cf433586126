namespace Bridge.Ingestion;

/// <summary>
/// The fields of a broker message that ingestion reads, free of any broker SDK's types, so that every host's ingest
/// (and the tests) apply the same rules.
/// </summary>
/// <param name="MessageId">The message id: the event's idempotency key.</param>
/// <param name="SessionId">The session id, the second choice for the stream.</param>
/// <param name="Subject">The subject: the event type (empty means "message").</param>
/// <param name="StreamProperty">The application property <c>stream</c>, the first choice for the stream.</param>
/// <param name="Body">The body: the event data.</param>
/// <param name="DiagnosticId">
/// The W3C <c>traceparent</c> the producer's client put in the message (Service Bus's <c>Diagnostic-Id</c> property),
/// so that storing the event continues the producer's trace.
/// </param>
public sealed record IncomingMessage(
    string? MessageId,
    string? SessionId,
    string? Subject,
    string? StreamProperty,
    ReadOnlyMemory<byte> Body,
    string? DiagnosticId = null);

/// <summary>What to do with a message once its batch was ingested.</summary>
public enum SettleAction
{
    /// <summary>Stored, or recognised as already stored: remove it from the subscription.</summary>
    Complete,

    /// <summary>It can never be stored: move it to the dead-letter queue with <see cref="MessageOutcome.Reason"/>.</summary>
    DeadLetter,

    /// <summary>Storage failed for now: release the lock so the broker delivers it again.</summary>
    Abandon,
}

/// <summary>The settle decision for one message.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Reason">For a dead letter, a short machine-readable reason (<see cref="DeadLetterReasons"/>).</param>
/// <param name="Description">For a dead letter or an abandon, what went wrong, for whoever reads the message next.</param>
/// <param name="EventId">For a completed message, the event's id.</param>
/// <param name="IsDuplicate">For a completed message, whether it had been stored before.</param>
public sealed record MessageOutcome(
    SettleAction Action,
    string? Reason = null,
    string? Description = null,
    long? EventId = null,
    bool IsDuplicate = false);

/// <summary>The dead-letter reasons ingestion uses.</summary>
public static class DeadLetterReasons
{
    /// <summary>No <c>stream</c> property, no session id, and no default stream configured.</summary>
    public const string NoStream = "NoStream";

    /// <summary>The stream name breaks the naming rules.</summary>
    public const string InvalidStreamName = "InvalidStreamName";

    /// <summary>The subject is not a valid event type.</summary>
    public const string InvalidEventType = "InvalidEventType";

    /// <summary>The message id cannot serve as an idempotency key.</summary>
    public const string InvalidMessageId = "InvalidMessageId";

    /// <summary>The body is larger than an event may be.</summary>
    public const string TooLarge = "TooLarge";

    /// <summary>The body is not UTF-8 text.</summary>
    public const string DataNotUtf8 = "DataNotUtf8";
}
