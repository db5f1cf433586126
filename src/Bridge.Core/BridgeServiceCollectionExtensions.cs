using Bridge.Events;
using Bridge.Http;
using Bridge.Ingestion;
using Bridge.Security;
using Bridge.Streaming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bridge's core services: the stream hub, the HTTP handlers and their settings.</summary>
public static class BridgeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the hub, the HTTP handlers and their authorization and limits, binding <see cref="SseOptions"/>,
    /// <see cref="TailOptions"/>, <see cref="PublishOptions"/>, <see cref="LimitsOptions"/> and <see cref="AuthOptions"/>
    /// from their sections, validated at start-up. An <see cref="IEventLog"/> must be
    /// registered too, for example with <c>AddTableEventLog</c>.
    /// </summary>
    public static IServiceCollection AddBridgeCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<SseOptions>(configuration, SseOptions.SectionName);
        services.AddValidatedSettings<TailOptions>(configuration, TailOptions.SectionName);
        services.AddValidatedSettings<PublishOptions>(configuration, PublishOptions.SectionName);
        services.AddValidatedSettings<LimitsOptions>(configuration, LimitsOptions.SectionName);
        services.AddValidatedSettings<AuthOptions>(configuration, AuthOptions.SectionName);
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
    /// Binds <typeparamref name="TOptions"/> from <paramref name="sectionName"/> and checks it (data annotations and
    /// <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>) at start-up, so a bad setting stops
    /// the app with a message naming it instead of failing on first use.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedSettings<TOptions>(this IServiceCollection services, IConfiguration configuration, string sectionName)
        where TOptions : class =>
        services.AddOptions<TOptions>().Bind(configuration.GetSection(sectionName)).ValidateDataAnnotations().ValidateOnStart();

    /// <summary>
    /// Registers <see cref="IngestBatchProcessor"/>, the rules that turn Service Bus messages into events, with
    /// <see cref="IngestOptions"/> bound from the <c>Ingest</c> section.
    /// </summary>
    public static IServiceCollection AddBridgeIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<IngestOptions>(configuration, IngestOptions.SectionName);
        services.TryAddSingleton<IngestBatchProcessor>();
        return services;
    }
}
