using Bridge.Subscribers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Functions;

/// <summary>
/// The app's services: the same as the standalone server's (src/Bridge.Server/BridgeServer.cs), from the same
/// settings, plus the ingestion rules. Program registers them; a test builds a container from them to catch a missing
/// registration before a deployment does.
/// </summary>
internal static class FunctionsServices
{
    /// <summary>The longest an SSE response may last here: Azure's front end ends HTTP requests after 230 s.</summary>
    public const int MaxResponseSeconds = 229;

    public static IServiceCollection AddBridgeFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services
            .AddBridgeCore(configuration)
            .AddBridgeHttp(configuration)
            .AddTableEventLog(configuration)
            .AddBridgeIngestion(configuration);
        services.AddOptions<SseOptions>().Validate(
            sse => sse.MaxDurationSeconds <= MaxResponseSeconds,
            "On Azure Functions, Sse:MaxDurationSeconds must stay below 230: the front end ends HTTP requests after 230 seconds.");
        return services;
    }
}
