using Bridge.Events;
using Bridge.Http.Admission;
using Bridge.Http.Security;
using Bridge.Subscribers;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>GET streams/{stream}/events</c>: a bounded Server-Sent Events response, replaying from the cursor
/// (<c>Last-Event-ID</c>, else <c>?lastEventId=</c>) and then live, until its lifetime or its token ends.
/// Authorization and admission are decided before the first byte; after that, the response is always a 200 stream.
/// </summary>
public sealed class SubscribeEndpoint(
    EventRules rules,
    StreamAuthorizer authorizer,
    SubscriberAdmission admission,
    SubscriptionService subscriptions,
    IOptions<SseOptions> sse)
{
    /// <summary>Handles one request.</summary>
    /// <remarks>
    /// Not an async method on the usual path: the response lives as long as the connection, and so would the method's
    /// frame. Only a token whose keys must first be fetched (JWKS) waits here.
    /// </remarks>
    public Task HandleAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!rules.TryParseStream(stream, out var name, out var error))
        {
            return ProblemResponses.WriteAsync(context, new Refusal(Problems.InvalidStreamName, error));
        }

        var authorizing = authorizer.AuthorizeAsync(context, name, StreamAccess.Subscribe);
        return authorizing.IsCompletedSuccessfully
            ? Subscribe(context, name, authorizing.Result)
            : SubscribeWhenAuthorizedAsync(context, name, authorizing);
    }

    private async Task SubscribeWhenAuthorizedAsync(HttpContext context, StreamName name, ValueTask<StreamAuthorization> authorizing) =>
        await Subscribe(context, name, await authorizing.ConfigureAwait(false)).ConfigureAwait(false);

    private Task Subscribe(HttpContext context, StreamName name, StreamAuthorization authorization)
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

        var cursor = StreamCursor.From(
            context.Request.Headers["Last-Event-ID"].ToString(),
            context.Request.Query[StreamCursor.QueryParameter].ToString());

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        BoundSocketSendBuffer(context);
        return subscriptions.ServeAsync(name, cursor, response.BodyWriter, authorization.NotAfter, slot, context.Abort, context.RequestAborted);
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
