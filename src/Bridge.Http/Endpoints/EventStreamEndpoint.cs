using Microsoft.AspNetCore.Http;

namespace Bridge.Http.Endpoints;

/// <summary>
/// Marks the Server-Sent Events endpoint. A host can use it to keep middleware that stays suspended for the whole
/// request (exception pages, status-code pages) off these long-lived responses: such a frame would cost memory on
/// every open connection, and could do nothing for a response that has already started. The subscribe handler
/// answers its own errors before it starts streaming.
/// </summary>
public sealed class EventStreamEndpoint
{
    /// <summary>The metadata instance put on the endpoint.</summary>
    public static EventStreamEndpoint Metadata { get; } = new();

    private EventStreamEndpoint()
    {
    }

    /// <summary>True when the request was routed to the event-stream endpoint (after routing has run).</summary>
    public static bool Is(HttpContext context) =>
        context?.GetEndpoint()?.Metadata.GetMetadata<EventStreamEndpoint>() is not null;
}
