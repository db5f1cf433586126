namespace Bridge.Http;

/// <summary>
/// The API's routes, relative to the <c>api</c> prefix. The standalone server maps them
/// (<see cref="Microsoft.AspNetCore.Builder.BridgeEndpointRouteBuilderExtensions.MapBridgeApi"/>) and the Functions app's
/// HTTP triggers declare them, both from these constants.
/// </summary>
public static class BridgeRoutes
{
    /// <summary>The prefix every route lives under, also <c>extensions.http.routePrefix</c> in <c>host.json</c>.</summary>
    public const string Prefix = "api";

    /// <summary>GET subscribes (Server-Sent Events); POST publishes one event.</summary>
    public const string Events = "streams/{stream}/events";

    /// <summary>GET subscribes to several streams in one Server-Sent Events response (<c>?stream=a&amp;stream=b</c>).</summary>
    public const string Subscription = "events";

    /// <summary>POST publishes a batch of events.</summary>
    public const string Batch = "streams/{stream}/events/batch";

    /// <summary>GET reports health.</summary>
    public const string Health = "health";

    /// <summary>POST stores a bearer token in the subscriber cookie; DELETE removes it.</summary>
    public const string Session = "auth/session";
}
