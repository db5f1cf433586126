using System.Buffers;
using System.Text;
using System.Text.Json;
using Bridge.Events;
using Bridge.Security;
using Bridge.Streaming;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Http;

/// <summary>
/// Bridge's HTTP API. Both hosts call these same handlers: the standalone server maps them as endpoints
/// (<see cref="BridgeEndpointRouteBuilderExtensions.MapBridgeApi"/>) and the Functions app calls them from its HTTP
/// triggers, so the two cannot drift apart.
/// </summary>
public sealed partial class BridgeHttpHandlers(
    StreamHub hub,
    IEventLog log,
    HealthCheckService health,
    StreamAuthorizer authorizer,
    SubscriberAdmission admission,
    PublishRateLimiter publishRate,
    IOptions<PublishOptions> publishOptions,
    IOptions<LimitsOptions> limitsOptions,
    IOptions<AuthOptions> authOptions,
    ILogger<BridgeHttpHandlers> logger)
{
    /// <summary>The header that makes a publish idempotent.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions JsonOptions = JsonSerializerOptions.Web;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly PublishOptions _publish = publishOptions.Value;
    private readonly LimitsOptions _limits = limitsOptions.Value;
    private readonly AuthOptions _auth = authOptions.Value;

    /// <summary>
    /// <c>GET streams/{stream}/events</c>: a bounded Server-Sent Events response, replaying from the cursor
    /// (<c>Last-Event-ID</c>, else <c>?lastEventId=</c>) and then live, until its lifetime or its token ends.
    /// </summary>
    /// <remarks>
    /// Not an async method on the usual path: the response lives as long as the connection, and so would the method's
    /// frame. Only a token whose keys must first be fetched (JWKS) waits here.
    /// </remarks>
    public Task SubscribeAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!TryParseStream(stream, out var name, out var problem))
        {
            return problem.ExecuteAsync(context);
        }

        var authorizing = authorizer.AuthorizeAsync(context, name, StreamAccess.Subscribe);
        return authorizing.IsCompletedSuccessfully
            ? Subscribe(context, name, authorizing.Result)
            : SubscribeWhenAuthorizedAsync(context, name, authorizing);
    }

    /// <summary>
    /// <c>POST streams/{stream}/events</c>: publishes the body as one event. <c>?type=</c> sets the type and the
    /// <c>Idempotency-Key</c> header makes it idempotent. 201 for a new event, 200 for a duplicate.
    /// </summary>
    public async Task PublishAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await PublishOneAsync(context, stream).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST streams/{stream}/events/batch</c>: publishes many events in order, from a JSON body
    /// <c>{"events":[{"type":…,"data":…,"idempotencyKey":…}]}</c>. 201 when any event is new, 200 when all are duplicates.
    /// </summary>
    public async Task PublishBatchAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await PublishManyAsync(context, stream).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST auth/session</c>: stores the request's bearer token in the subscriber cookie (HttpOnly, Secure, the
    /// configured SameSite, path <c>/api</c>, expiring with the token), for browsers whose <c>EventSource</c> cannot
    /// send headers. Call it again with a fresh token before the old one expires. 204 when stored; 401 when the token
    /// is not valid. In Open mode there is nothing to store and the answer is 204.
    /// </summary>
    public async Task CreateSessionAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_auth.Mode == AuthMode.Open)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var (token, grant, problem) = await authorizer.ValidateBearerAsync(context).ConfigureAwait(false);
        if (token is null || grant is null)
        {
            StreamAuthorizer.Challenge(context, problem);
            await Problems.InvalidToken(problem!).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        context.Response.Cookies.Append(_auth.CookieName, token, SessionCookie(grant.ExpiresAt));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>DELETE auth/session</c>: removes the subscriber cookie. 204.</summary>
    public Task DeleteSessionAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(_auth.CookieName, SessionCookie(expires: null));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary><c>GET health</c>: 200 when healthy, 503 when storage cannot be reached; the body says which check failed.</summary>
    public async Task HealthAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
        var body = new HealthResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(entry => entry.Key, entry => new HealthCheckEntry(entry.Value.Status.ToString(), entry.Value.Description)));
        context.Response.Headers.CacheControl = "no-store";
        var status = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        await TypedResults.Json(body, JsonOptions, statusCode: status).ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task<IResult> PublishOneAsync(HttpContext context, string? stream)
    {
        if (!TryParseStream(stream, out var name, out var streamProblem))
        {
            return streamProblem;
        }

        if (await AdmitPublisherAsync(context, name).ConfigureAwait(false) is { } refusal)
        {
            return refusal;
        }

        var types = context.Request.Query["type"];
        if (types.Count > 1)
        {
            return Problems.InvalidEventType("Give the 'type' query parameter at most once.");
        }

        if (!TryParseType(types.ToString(), out var type, out var error))
        {
            return Problems.InvalidEventType(error);
        }

        if (!TryReadIdempotencyKey(context.Request, out var key, out var keyProblem))
        {
            return keyProblem;
        }

        var (data, bodyProblem) = await ReadBodyAsync(
            context, EventData.MaxBytes, Problems.EventTooLarge($"Event data has at most {EventData.MaxBytes} bytes (256 KiB).")).ConfigureAwait(false);
        if (data is null)
        {
            return bodyProblem!;
        }

        if (!EventData.TryValidate(data, out var dataProblem))
        {
            return dataProblem.Kind == EventDataProblemKind.TooLarge
                ? Problems.EventTooLarge(dataProblem.Message)
                : Problems.DataNotUtf8(dataProblem.Message);
        }

        return await AppendAsync(context, name, [new NewEvent(type, data, key)], results =>
        {
            var result = results[0];
            return TypedResults.Json(
                new PublishResponse(name.Value, result.Id),
                JsonOptions,
                statusCode: result.IsDuplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created);
        }).ConfigureAwait(false);
    }

    private async Task<IResult> PublishManyAsync(HttpContext context, string? stream)
    {
        if (!TryParseStream(stream, out var name, out var streamProblem))
        {
            return streamProblem;
        }

        if (await AdmitPublisherAsync(context, name).ConfigureAwait(false) is { } refusal)
        {
            return refusal;
        }

        if (!TryReadIdempotencyKey(context.Request, out var baseKey, out var keyProblem))
        {
            return keyProblem;
        }

        var (body, bodyProblem) = await ReadBodyAsync(
            context, _publish.MaxBatchBytes, Problems.BatchTooLarge($"A batch request body has at most {_publish.MaxBatchBytes} bytes.")).ConfigureAwait(false);
        if (body is null)
        {
            return bodyProblem!;
        }

        PublishBatchRequest? request;
        try
        {
            // A byte order mark, which editors and PowerShell like to add, may be ignored (RFC 8259, section 8.1).
            request = JsonSerializer.Deserialize<PublishBatchRequest>(body.AsSpan().StartsWith("\uFEFF"u8) ? body.AsSpan(3) : body, JsonOptions);
        }
        catch (JsonException exception)
        {
            return Problems.InvalidBatch($"The body is not valid JSON for a batch: {exception.Message}");
        }

        if (request?.Events is not { Count: > 0 } items)
        {
            return Problems.InvalidBatch("The body must be a JSON object with a non-empty \"events\" array.");
        }

        if (items.Count > _publish.MaxBatchEvents)
        {
            return Problems.BatchTooLarge($"A batch holds at most {_publish.MaxBatchEvents} events; this one has {items.Count}.");
        }

        var events = new List<NewEvent>(items.Count);
        var errors = new Dictionary<string, string[]>();
        for (var index = 0; index < items.Count; index++)
        {
            if (TryCreateEvent(items[index], index, baseKey, _limits.MaxEventTypeLength, out var newEvent, out var field, out var problem))
            {
                events.Add(newEvent);
            }
            else
            {
                errors[$"events[{index}].{field}"] = [problem];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.InvalidBatch($"{errors.Count} of the {items.Count} events are not valid; nothing was stored.", errors);
        }

        return await AppendAsync(context, name, events, results => TypedResults.Json(
            new PublishBatchResponse(name.Value, [.. results.Select(result => new PublishBatchResult(result.Id, result.IsDuplicate))]),
            JsonOptions,
            statusCode: results.All(result => result.IsDuplicate) ? StatusCodes.Status200OK : StatusCodes.Status201Created)).ConfigureAwait(false);
    }

    /// <summary>
    /// Validates one batch item. An item without its own key gets <c>{Idempotency-Key}#{index}</c> when the request
    /// has the header, so a retried batch is stored once even without per-event keys.
    /// </summary>
    private static bool TryCreateEvent(
        PublishBatchItem? item,
        int index,
        IdempotencyKey? baseKey,
        int maxTypeLength,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NewEvent? newEvent,
        out string field,
        out string problem)
    {
        newEvent = null;
        problem = string.Empty;
        field = "type";
        if (item is null)
        {
            (field, problem) = ("", "An event must be a JSON object.");
            return false;
        }

        if (!TryParseType(item.Type, maxTypeLength, out var type, out var error))
        {
            problem = error;
            return false;
        }

        field = "idempotencyKey";
        IdempotencyKey? key = null;
        var keyText = item.IdempotencyKey ?? (baseKey is { } header ? $"{header.Value}#{index}" : null);
        if (keyText is not null)
        {
            if (!IdempotencyKey.TryParse(keyText, out var parsed, out error))
            {
                problem = error;
                return false;
            }

            key = parsed;
        }

        field = "data";
        byte[] data;
        try
        {
            data = StrictUtf8.GetBytes(item.Data ?? string.Empty);
        }
        catch (EncoderFallbackException)
        {
            problem = "The data holds an unpaired surrogate, which is not valid Unicode text.";
            return false;
        }

        if (!EventData.TryValidate(data, out var dataProblem))
        {
            problem = dataProblem.Message;
            return false;
        }

        newEvent = new NewEvent(type, data, key);
        return true;
    }

    private async Task SubscribeWhenAuthorizedAsync(HttpContext context, StreamName name, ValueTask<StreamAuthorization> authorizing) =>
        await Subscribe(context, name, await authorizing.ConfigureAwait(false)).ConfigureAwait(false);

    private Task Subscribe(HttpContext context, StreamName name, StreamAuthorization authorization)
    {
        if (!authorization.IsAllowed)
        {
            return authorization.Refusal!.ExecuteAsync(context);
        }

        var (slot, refusal) = admission.TryAdmit(context);
        if (refusal is not null)
        {
            return refusal.ExecuteAsync(context);
        }

        var cursor = StreamCursor.From(
            context.Request.Headers["Last-Event-ID"].ToString(),
            context.Request.Query[StreamCursor.QueryParameter].ToString());

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return hub.SubscribeAsync(name, cursor, response.BodyWriter, authorization.NotAfter, slot, context.RequestAborted);
    }

    /// <summary>Authorizes a publish and applies the publisher's rate limit; null when it may go ahead.</summary>
    private async ValueTask<IResult?> AdmitPublisherAsync(HttpContext context, StreamName name)
    {
        var authorization = await authorizer.AuthorizeAsync(context, name, StreamAccess.Publish).ConfigureAwait(false);
        return authorization.Refusal
            ?? publishRate.TryAcquire(context, authorization.Principal ?? ClientAddress.Of(context, _limits.TrustForwardedFor));
    }

    private bool TryParseStream(string? text, out StreamName name, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        problem = !StreamName.TryParse(text, out name, out var error)
            ? Problems.InvalidStreamName(error)
            : name.Value.Length > _limits.MaxStreamNameLength
                ? Problems.InvalidStreamName($"A stream name has at most {_limits.MaxStreamNameLength} characters here (Limits:MaxStreamNameLength); this one has {name.Value.Length}.")
                : null;
        return problem is null;
    }

    private bool TryParseType(string? text, out EventType type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error) =>
        TryParseType(text, _limits.MaxEventTypeLength, out type, out error);

    private static bool TryParseType(string? text, int maxLength, out EventType type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        if (!EventType.TryParse(text, out type, out error))
        {
            return false;
        }

        if (type.Value.Length > maxLength)
        {
            error = $"An event type has at most {maxLength} characters here (Limits:MaxEventTypeLength); this one has {type.Value.Length}.";
            return false;
        }

        return true;
    }

    private CookieOptions SessionCookie(DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = _auth.CookieSameSite,
        Path = "/" + BridgeRoutes.Prefix,
        Expires = expires,
        IsEssential = true,
    };

    private async Task<IResult> AppendAsync(
        HttpContext context,
        StreamName stream,
        List<NewEvent> events,
        Func<IReadOnlyList<AppendResult>, IResult> respond)
    {
        try
        {
            return respond(await log.AppendAsync(stream, events, context.RequestAborted).ConfigureAwait(false));
        }
        catch (EventLogUnavailableException exception)
        {
            LogPublishFailed(exception, stream.Value, events.Count);
            context.Response.Headers.RetryAfter = _limits.RetryAfterHeader;
            return Problems.StorageUnavailable(
                "Events could not be stored because storage is unavailable. Retry with the same Idempotency-Key; events already stored are not stored twice.");
        }
    }

    private static bool TryReadIdempotencyKey(
        HttpRequest request,
        out IdempotencyKey? key,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        key = null;
        problem = null;
        var values = request.Headers[IdempotencyKeyHeader];
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1)
        {
            problem = Problems.InvalidIdempotencyKey($"Send the {IdempotencyKeyHeader} header once.");
            return false;
        }

        // The IETF draft sends the key as a structured-field string ("…"); most clients send it bare. Both mean the same.
        var text = values[0] is { Length: >= 2 } value && value[0] == '"' && value[^1] == '"' ? value[1..^1] : values[0];
        if (!IdempotencyKey.TryParse(text, out var parsed, out var error))
        {
            problem = Problems.InvalidIdempotencyKey(error);
            return false;
        }

        key = parsed;
        return true;
    }

    /// <summary>
    /// Reads the whole body; or returns <paramref name="tooLarge"/> as soon as it exceeds <paramref name="limit"/> bytes,
    /// or the server's refusal when the client sends it too slowly or stops part-way.
    /// </summary>
    private async Task<(byte[]? Body, IResult? Problem)> ReadBodyAsync(HttpContext context, int limit, IResult tooLarge)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (null, tooLarge);
        }

        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.End);
                    return (null, tooLarge);
                }

                if (read.IsCompleted)
                {
                    var body = buffer.ToArray();
                    reader.AdvanceTo(buffer.End);
                    return (body, null);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (BadHttpRequestException exception)
        {
            LogUnreadableBody(request.Path, exception.Message);
            return (null, Problems.UnreadableBody(exception.StatusCode, exception.Message));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publish of {Events} event(s) to stream {Stream} failed: storage is unavailable")]
    private partial void LogPublishFailed(Exception exception, string stream, int events);

    [LoggerMessage(Level = LogLevel.Information, Message = "The body of a publish to {Path} could not be read: {Reason}")]
    private partial void LogUnreadableBody(PathString path, string reason);

    private sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthCheckEntry> Checks);

    private sealed record HealthCheckEntry(string Status, string? Description);
}
