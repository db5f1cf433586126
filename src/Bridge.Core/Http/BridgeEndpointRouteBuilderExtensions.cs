using Bridge.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Bridge's HTTP API onto a host's routes.</summary>
public static class BridgeEndpointRouteBuilderExtensions
{
    /// <summary>The routes, relative to <c>/api</c>. The Functions app declares the same ones on its triggers.</summary>
    public static class Routes
    {
        /// <summary>GET subscribes (SSE); POST publishes one event.</summary>
        public const string Events = "streams/{stream}/events";

        /// <summary>POST publishes a batch.</summary>
        public const string Batch = "streams/{stream}/events/batch";

        /// <summary>GET reports health.</summary>
        public const string Health = "health";
    }

    /// <summary>
    /// Maps the API under <c>/api</c> onto <see cref="BridgeHttpHandlers"/>, the same handlers the Functions app calls.
    /// </summary>
    public static IEndpointRouteBuilder MapBridgeApi(this IEndpointRouteBuilder endpoints)
    {
        var handlers = endpoints.ServiceProvider.GetRequiredService<BridgeHttpHandlers>();
        var api = endpoints.MapGroup("/api");
        api.MapGet(Routes.Events, context => handlers.SubscribeAsync(context, StreamOf(context)));
        api.MapPost(Routes.Events, context => handlers.PublishAsync(context, StreamOf(context)));
        api.MapPost(Routes.Batch, context => handlers.PublishBatchAsync(context, StreamOf(context)));
        api.MapGet(Routes.Health, handlers.HealthAsync);
        return endpoints;
    }

    private static string? StreamOf(HttpContext context) => context.GetRouteValue("stream") as string;
}
