using Bridge.Http;
using Bridge.Http.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Bridge's HTTP API onto a host's routes.</summary>
public static class BridgeEndpointRouteBuilderExtensions
{
    /// <summary>Maps the API under <c>/api</c> (<see cref="BridgeRoutes"/>) onto the endpoint classes the Functions app calls too.</summary>
    public static IEndpointRouteBuilder MapBridgeApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var subscribe = services.GetRequiredService<SubscribeEndpoint>();
        var publish = services.GetRequiredService<PublishEndpoint>();
        var publishBatch = services.GetRequiredService<PublishBatchEndpoint>();
        var sessionCookie = services.GetRequiredService<SessionCookieEndpoints>();
        var health = services.GetRequiredService<HealthEndpoint>();

        var api = endpoints.MapGroup("/" + BridgeRoutes.Prefix);
        api.MapGet(BridgeRoutes.Events, context => subscribe.HandleAsync(context, StreamOf(context))).WithMetadata(EventStreamEndpoint.Metadata);
        api.MapGet(BridgeRoutes.Subscription, subscribe.HandleSeveralAsync).WithMetadata(EventStreamEndpoint.Metadata);
        api.MapPost(BridgeRoutes.Events, context => publish.HandleAsync(context, StreamOf(context)));
        api.MapPost(BridgeRoutes.Batch, context => publishBatch.HandleAsync(context, StreamOf(context)));
        api.MapGet(BridgeRoutes.Health, health.HandleAsync);
        api.MapPost(BridgeRoutes.Session, sessionCookie.CreateAsync);
        api.MapDelete(BridgeRoutes.Session, sessionCookie.DeleteAsync);
        return endpoints;
    }

    private static string? StreamOf(HttpContext context) => context.GetRouteValue("stream") as string;
}
