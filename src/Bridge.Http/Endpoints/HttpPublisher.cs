using System.Text.Json;
using Bridge.Events;
using Bridge.Http.Admission;
using Bridge.Http.Requests;
using Bridge.Http.Security;
using Bridge.Publishing;
using Bridge.Subscribers;
using Bridge.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Endpoints;

/// <summary>
/// What both publish endpoints do around their own parsing: admit the publisher (its token and its rate), then
/// publish through the engine, turning a storage failure into a 503 the publisher can retry.
/// </summary>
public sealed partial class HttpPublisher(
    EventRules rules,
    StreamAuthorizer authorizer,
    PublishRateLimiter rateLimiter,
    EventPublisher publisher,
    IOptions<LimitsOptions> limits,
    BridgeMetrics metrics,
    ILogger<HttpPublisher> logger)
{
    /// <summary>The answer to a publish that is refused, counted in <c>bridge.appends.refused</c> by its problem type.</summary>
    public IResult Refuse(Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        metrics.AppendsRefused.Add(1, new KeyValuePair<string, object?>("reason", refusal.Problem.Code));
        return refusal.ToResult();
    }

    /// <summary>
    /// Checks the stream's name, authorizes a publish to it and applies the publisher's rate limit: the stream when the
    /// publish may go ahead, or why not.
    /// </summary>
    public async ValueTask<(StreamName Stream, Refusal? Refusal)> AdmitAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!rules.TryParseStream(stream, out var name, out var error))
        {
            return (name, new Refusal(Problems.InvalidStreamName, error));
        }

        var authorization = await authorizer.AuthorizeAsync(context, name, StreamAccess.Publish).ConfigureAwait(false);
        return (name, authorization.Refusal
            ?? rateLimiter.TryAcquire(authorization.Principal ?? ClientAddress.Of(context, limits.Value.TrustForwardedFor)));
    }

    /// <summary>
    /// The <c>Location</c> of a 201: the stream's events from <paramref name="firstNew"/> on, that is, a subscription
    /// whose cursor is the id just before it.
    /// </summary>
    public static string LocationOf(HttpContext context, StreamName stream, AppendResult firstNew)
    {
        ArgumentNullException.ThrowIfNull(context);
        return $"{context.Request.PathBase}/{BridgeRoutes.Prefix}/streams/{Uri.EscapeDataString(stream.Value)}/events" +
               $"?lastEventId={StreamCursor.Format(firstNew.Id - 1, firstNew.Epoch)}";
    }

    /// <summary>
    /// The answer to a publish, as JSON with its <c>Content-Length</c>. Written as a stream of unknown length it would
    /// go out chunked, and Kestrel sends the last chunk in a packet of its own after the body, which the publisher, who
    /// waits for the whole answer before publishing again, must also receive: two sends and two wake-ups per publish.
    /// </summary>
    public static IResult Answer<T>(T body, int statusCode) =>
        TypedResults.Text(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), "application/json; charset=utf-8", statusCode: statusCode);

    /// <summary>Publishes <paramref name="events"/>; the results, or the 503 to answer when storage failed.</summary>
    public async Task<(IReadOnlyList<AppendResult>? Results, Refusal? Refusal)> PublishAsync(HttpContext context, StreamName stream, List<NewEvent> events)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return (await publisher.PublishAsync(stream, events, context.RequestAborted).ConfigureAwait(false), null);
        }
        catch (EventLogUnavailableException exception)
        {
            LogPublishFailed(exception, stream.Value, events.Count);
            return (null, new Refusal(
                Problems.StorageUnavailable,
                "Events could not be stored because storage is unavailable. Retry with the same Idempotency-Key; events already stored are not stored twice.")
            {
                RetryAfterSeconds = limits.Value.RetryAfterSeconds,
            });
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publish of {Events} event(s) to stream {Stream} failed: storage is unavailable")]
    private partial void LogPublishFailed(Exception exception, string stream, int events);
}
