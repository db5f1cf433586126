using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bridge.Http;

/// <summary>
/// The RFC 9457 problem details Bridge answers with. Each has a stable <c>type</c>, <c>urn:bridge:problem:&lt;code&gt;</c>,
/// listed in the README; clients should branch on it, not on the wording of <c>detail</c>.
/// </summary>
public static class Problems
{
    /// <summary>The prefix of every problem type.</summary>
    public const string TypePrefix = "urn:bridge:problem:";

    internal static ProblemHttpResult InvalidStreamName(string detail) =>
        Create(StatusCodes.Status400BadRequest, "invalid-stream-name", "The stream name is not valid.", detail);

    internal static ProblemHttpResult InvalidEventType(string detail) =>
        Create(StatusCodes.Status400BadRequest, "invalid-event-type", "The event type is not valid.", detail);

    internal static ProblemHttpResult InvalidIdempotencyKey(string detail) =>
        Create(StatusCodes.Status400BadRequest, "invalid-idempotency-key", "The Idempotency-Key header is not valid.", detail);

    internal static ProblemHttpResult DataNotUtf8(string detail) =>
        Create(StatusCodes.Status400BadRequest, "data-not-utf8", "The event data is not UTF-8 text.", detail);

    internal static ProblemHttpResult EventTooLarge(string detail) =>
        Create(StatusCodes.Status413PayloadTooLarge, "event-too-large", "The event data is too large.", detail);

    internal static ProblemHttpResult BatchTooLarge(string detail) =>
        Create(StatusCodes.Status413PayloadTooLarge, "batch-too-large", "The batch is too large.", detail);

    internal static ProblemHttpResult InvalidBatch(string detail, IDictionary<string, string[]>? errors = null) =>
        Create(
            StatusCodes.Status400BadRequest,
            "invalid-batch",
            "The batch is not valid.",
            detail,
            errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors });

    internal static ProblemHttpResult UnreadableBody(int status, string detail) =>
        Create(status, "unreadable-body", "The request body could not be read.", detail);

    internal static ProblemHttpResult StorageUnavailable(string detail) =>
        Create(StatusCodes.Status503ServiceUnavailable, "storage-unavailable", "Event storage is unavailable.", detail);

    internal static ProblemHttpResult MissingToken(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "missing-token", "A valid token is required.", detail);

    internal static ProblemHttpResult InvalidToken(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "invalid-token", "A valid token is required.", detail);

    internal static ProblemHttpResult StreamNotAllowed(string detail) =>
        Create(StatusCodes.Status403Forbidden, "stream-not-allowed", "The token does not cover this stream.", detail);

    internal static ProblemHttpResult TooManySubscribers(string detail) =>
        Create(StatusCodes.Status503ServiceUnavailable, "too-many-subscribers", "This server holds as many streams as it may.", detail);

    internal static ProblemHttpResult TooManySubscribersPerClient(string detail) =>
        Create(StatusCodes.Status429TooManyRequests, "too-many-subscribers-per-client", "Too many streams for this client.", detail);

    internal static ProblemHttpResult PublishRateExceeded(string detail) =>
        Create(StatusCodes.Status429TooManyRequests, "publish-rate-exceeded", "Too many publish requests.", detail);

    /// <summary>Creates a problem with Bridge's type URN for <paramref name="code"/>.</summary>
    public static ProblemHttpResult Create(
        int status,
        string code,
        string title,
        string detail,
        IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypePrefix + code, extensions: extensions);
}
