using Bridge.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Bridge's HTTP API onto a host's routes.</summary>
public static class BridgeEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the API under <c>/api</c> (<see cref="BridgeRoutes"/>) onto <see cref="BridgeHttpHandlers"/>, the same handlers the Functions app calls.
    /// </summary>
    public static IEndpointRouteBuilder MapBridgeApi(this IEndpointRouteBuilder endpoints)
    {
        var handlers = endpoints.ServiceProvider.GetRequiredService<BridgeHttpHandlers>();
        var api = endpoints.MapGroup("/" + BridgeRoutes.Prefix);
        api.MapGet(BridgeRoutes.Events, context => handlers.SubscribeAsync(context, StreamOf(context)))
            .WithMetadata(EventStreamEndpoint.Metadata);
        api.MapPost(BridgeRoutes.Events, context => handlers.PublishAsync(context, StreamOf(context)));
        api.MapPost(BridgeRoutes.Batch, context => handlers.PublishBatchAsync(context, StreamOf(context)));
        api.MapGet(BridgeRoutes.Health, handlers.HealthAsync);
        api.MapPost(BridgeRoutes.Session, handlers.CreateSessionAsync);
        api.MapDelete(BridgeRoutes.Session, handlers.DeleteSessionAsync);
        return endpoints;
    }

    private static string? StreamOf(HttpContext context) => context.GetRouteValue("stream") as string;
}
