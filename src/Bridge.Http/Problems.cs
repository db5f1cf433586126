namespace Bridge.Http;

/// <summary>One kind of RFC 9457 problem Bridge answers with: its status, stable code and title.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Code">The stable part of the type URN, <c>urn:bridge:problem:&lt;code&gt;</c>.</param>
/// <param name="Title">A short summary that does not change from one occurrence to the next.</param>
public sealed record ProblemType(int Status, string Code, string Title)
{
    /// <summary>The problem's <c>type</c>: clients branch on it, never on the wording of <c>detail</c>.</summary>
    public string Uri => Problems.TypePrefix + Code;
}

/// <summary>The catalogue of problems, listed in docs/api.md.</summary>
public static class Problems
{
    /// <summary>The prefix of every problem type.</summary>
    public const string TypePrefix = "urn:bridge:problem:";

    public static ProblemType InvalidStreamName { get; } = new(400, "invalid-stream-name", "The stream name is not valid.");

    public static ProblemType TooManyStreams { get; } = new(400, "too-many-streams", "The subscription names too many streams.");

    public static ProblemType InvalidEventType { get; } = new(400, "invalid-event-type", "The event type is not valid.");

    public static ProblemType InvalidIdempotencyKey { get; } = new(400, "invalid-idempotency-key", "The Idempotency-Key header is not valid.");

    public static ProblemType DataNotUtf8 { get; } = new(400, "data-not-utf8", "The event data is not UTF-8 text.");

    public static ProblemType EventTooLarge { get; } = new(413, "event-too-large", "The event data is too large.");

    public static ProblemType BatchTooLarge { get; } = new(413, "batch-too-large", "The batch is too large.");

    public static ProblemType InvalidBatch { get; } = new(400, "invalid-batch", "The batch is not valid.");

    /// <summary>The body ended early, arrived too slowly, or was badly framed; the status is the server's (400 or 408).</summary>
    public static ProblemType UnreadableBody(int status) => new(status, "unreadable-body", "The request body could not be read.");

    public static ProblemType StorageUnavailable { get; } = new(503, "storage-unavailable", "Event storage is unavailable.");

    public static ProblemType MissingToken { get; } = new(401, "missing-token", "A valid token is required.");

    public static ProblemType InvalidToken { get; } = new(401, "invalid-token", "A valid token is required.");

    public static ProblemType StreamNotAllowed { get; } = new(403, "stream-not-allowed", "The token does not cover this stream.");

    public static ProblemType TooManySubscribers { get; } = new(503, "too-many-subscribers", "This server holds as many streams as it may.");

    public static ProblemType TooManySubscribersPerClient { get; } = new(429, "too-many-subscribers-per-client", "Too many streams for this client.");

    public static ProblemType PublishRateExceeded { get; } = new(429, "publish-rate-exceeded", "Too many publish requests.");
}
