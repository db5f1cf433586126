using Bridge.Events;
using Bridge.Http;
using Bridge.Ingestion;
using Bridge.Security;
using Bridge.Streaming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bridge's core services: the stream hub, the HTTP handlers and their settings.</summary>
public static class BridgeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the hub and the HTTP handlers, binding <see cref="SseOptions"/>, <see cref="TailOptions"/> and
    /// <see cref="PublishOptions"/> from their sections, validated at start-up. An <see cref="IEventLog"/> must be
    /// registered too, for example with <c>AddTableEventLog</c>.
    /// </summary>
    public static IServiceCollection AddBridgeCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SseOptions>().Bind(configuration.GetSection(SseOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TailOptions>().Bind(configuration.GetSection(TailOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PublishOptions>().Bind(configuration.GetSection(PublishOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<TokenValidator>();
        services.TryAddSingleton<StreamAuthorizer>();
        services.TryAddSingleton<SubscriberAdmission>();
        services.TryAddSingleton<PublishRateLimiter>();
        services.AddHostedService<AuthModeNotice>();

        // ASP.NET Core's request lines log the full URL, and a subscriber's token may be in its query: keep them out
        // of the logs whatever the logging settings say (a rule added after the configuration's wins over it). With the
        // category off entirely, hosting also skips the log scope and Activity it keeps for each open request, which
        // is 0.8 KB of each idle SSE connection (docs/benchmarks.md, target 3).
        services.Configure<LoggerFilterOptions>(filters => filters.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LocalCommitFeed>();
        services.TryAddSingleton<StreamHub>();
        services.AddHostedService(provider => provider.GetRequiredService<StreamHub>());
        services.TryAddSingleton<BridgeHttpHandlers>();
        services.AddHealthChecks();
        services.AddProblemDetails();
        return services;
    }

    /// <summary>
    /// Registers <see cref="IngestBatchProcessor"/>, the rules that turn Service Bus messages into events, with
    /// <see cref="IngestOptions"/> bound from the <c>Ingest</c> section.
    /// </summary>
    public static IServiceCollection AddBridgeIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IngestBatchProcessor>();
        return services;
    }
}
