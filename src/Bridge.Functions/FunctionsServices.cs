using Azure.Monitor.OpenTelemetry.Exporter;
using Bridge.Subscribers;
using Bridge.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
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
        AddTelemetry(services, configuration);
        return services;
    }

    /// <summary>
    /// Bridge's meter and spans with the worker's own, sent to Application Insights when the app has its connection
    /// string: the path Azure Functions recommends for the isolated worker.
    /// </summary>
    private static void AddTelemetry(IServiceCollection services, IConfiguration configuration)
    {
        var openTelemetry = services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithMetrics(metrics => metrics.AddMeter(BridgeMetrics.MeterName))
            .WithTracing(tracing => tracing.AddSource(BridgeMetrics.ActivitySourceName));
        if (!string.IsNullOrEmpty(configuration[ApplicationInsightsConnectionString]))
        {
            openTelemetry.UseAzureMonitorExporter();
        }
    }

    /// <summary>The app setting that Azure sets when the app has Application Insights (infra/ sets it).</summary>
    public const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";
}
