using System.Diagnostics.CodeAnalysis;
using Bridge.Events;
using Bridge.Http.Admission;
using Bridge.Http.Security;
using Bridge.Subscribers;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>GET streams/{stream}/events</c> and <c>GET events?stream=a&amp;stream=b</c>: a bounded Server-Sent Events
/// response on one stream or several, replaying from the cursor (<c>Last-Event-ID</c>, else <c>?lastEventId=</c>) and
/// then live, until its lifetime or its token ends. Authorization (of every stream) and admission are decided before
/// the first byte; after that, the response is always a 200 stream.
/// </summary>
public sealed class SubscribeEndpoint(
    EventRules rules,
    StreamAuthorizer authorizer,
    SubscriberAdmission admission,
    SubscriptionService subscriptions,
    IOptions<SseOptions> sse,
    IOptions<LimitsOptions> limits)
{
    /// <summary>The query parameter that names the streams of a multi-stream subscription.</summary>
    public const string StreamParameter = "stream";

    /// <summary>Handles a request for one stream.</summary>
    /// <remarks>
    /// Not an async method on the usual path: the response lives as long as the connection, and so would the method's
    /// frame. Only a token whose keys must first be fetched (JWKS) waits here.
    /// </remarks>
    public Task HandleAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        return rules.TryParseStream(stream, out var name, out var error)
            ? Authorize(context, [name], several: false)
            : ProblemResponses.WriteAsync(context, new Refusal(Problems.InvalidStreamName, error));
    }

    /// <summary>
    /// Handles a request for several streams, named by repeated <c>stream</c> parameters, each of which may also be a
    /// comma-separated list.
    /// </summary>
    public Task HandleSeveralAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return TryReadStreams(context.Request.Query[StreamParameter], out var streams, out var refusal)
            ? Authorize(context, streams, several: true)
            : ProblemResponses.WriteAsync(context, refusal);
    }

    private bool TryReadStreams(StringValues values, out List<StreamName> streams, [NotNullWhen(false)] out Refusal? refusal)
    {
        streams = [];
        refusal = null;
        var names = values.SelectMany(value => (value ?? string.Empty).Split(',')).ToList();
        var max = limits.Value.MaxStreamsPerSubscription;
        if (names.Count > max)
        {
            refusal = new Refusal(
                Problems.TooManyStreams,
                $"A subscription may name at most {max} streams ({LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxStreamsPerSubscription)}); this one names {names.Count}.");
            return false;
        }

        foreach (var text in names)
        {
            if (!rules.TryParseStream(text, out var name, out var error))
            {
                refusal = new Refusal(Problems.InvalidStreamName, text.Length == 0 ? $"{error} Name the streams to subscribe to: ?stream=a&stream=b." : $"'{text}': {error}");
                return false;
            }

            if (streams.Contains(name))
            {
                refusal = new Refusal(Problems.InvalidStreamName, $"Stream '{name}' is named twice; name each stream once.");
                return false;
            }

            streams.Add(name);
        }

        if (streams.Count == 0)
        {
            refusal = new Refusal(Problems.InvalidStreamName, "Name the streams to subscribe to: ?stream=a&stream=b.");
            return false;
        }

        return true;
    }

    private Task Authorize(HttpContext context, IReadOnlyList<StreamName> streams, bool several)
    {
        var authorizing = authorizer.AuthorizeAsync(context, streams, StreamAccess.Subscribe);
        return authorizing.IsCompletedSuccessfully
            ? Subscribe(context, streams, several, authorizing.Result)
            : SubscribeWhenAuthorizedAsync(context, streams, several, authorizing);
    }

    private async Task SubscribeWhenAuthorizedAsync(HttpContext context, IReadOnlyList<StreamName> streams, bool several, ValueTask<StreamAuthorization> authorizing) =>
        await Subscribe(context, streams, several, await authorizing.ConfigureAwait(false)).ConfigureAwait(false);

    private Task Subscribe(HttpContext context, IReadOnlyList<StreamName> streams, bool several, StreamAuthorization authorization)
    {
        if (authorization.Refusal is { } refused)
        {
            return ProblemResponses.WriteAsync(context, refused);
        }

        var (slot, full) = admission.TryAdmit(context);
        if (full is not null)
        {
            return ProblemResponses.WriteAsync(context, full);
        }

        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        var queryCursor = context.Request.Query[StreamCursor.QueryParameter].ToString();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        BoundSocketSendBuffer(context);
        return several
            ? subscriptions.ServeAsync(SubscriptionCursor.From(streams, lastEventId, queryCursor), response.BodyWriter, authorization.NotAfter, slot, context.Abort, context.RequestAborted)
            : subscriptions.ServeAsync(streams[0], StreamCursor.From(lastEventId, queryCursor), response.BodyWriter, authorization.NotAfter, slot, context.Abort, context.RequestAborted);
    }

    /// <summary>
    /// Caps what the operating system queues for this client, so that a slow reader overflows its buffer and is cut
    /// off rather than reading for minutes after its response ended (see <see cref="SseOptions.SocketSendBufferBytes"/>).
    /// Only on HTTP/1.1, where the connection carries this response alone.
    /// </summary>
    private void BoundSocketSendBuffer(HttpContext context)
    {
        if (sse.Value.SocketSendBufferBytes > 0
            && HttpProtocol.IsHttp11(context.Request.Protocol)
            && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            socket.SendBufferSize = sse.Value.SocketSendBufferBytes;
        }
    }
}
