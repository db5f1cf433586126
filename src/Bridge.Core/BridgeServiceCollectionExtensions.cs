using Bridge.Events;
using Bridge.Hub;
using Bridge.Ingestion;
using Bridge.Publishing;
using Bridge.Subscribers;
using Bridge.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bridge's engine: the event rules, publishing, the stream hub and its subscribers.</summary>
public static class BridgeServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine, binding <see cref="EventRulesOptions"/>, <see cref="SseOptions"/> and
    /// <see cref="TailOptions"/> from their sections, validated at start-up. An <see cref="IEventLog"/> must be
    /// registered too: <see cref="AddInMemoryEventLog"/>, or a durable one such as <c>AddTableEventLog</c>.
    /// </summary>
    public static IServiceCollection AddBridgeCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<EventRulesOptions>(configuration, EventRulesOptions.SectionName);
        services.AddValidatedSettings<SseOptions>(configuration, SseOptions.SectionName);
        services.AddValidatedSettings<TailOptions>(configuration, TailOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddBridgeMetrics();
        services.TryAddSingleton<EventRules>();
        services.TryAddSingleton<StreamHub>();
        services.TryAddSingleton<EventPublisher>();
        services.TryAddSingleton<SubscriptionService>();

        // Stopped in reverse order: responses in replay end first, then the hub ends live responses and its tails.
        services.AddHostedService(provider => provider.GetRequiredService<StreamHub>());
        services.AddHostedService(provider => provider.GetRequiredService<SubscriptionService>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="BridgeMetrics"/> on the host's meter factory, for the engine and for any event log that
    /// reports to it.
    /// </summary>
    public static IServiceCollection AddBridgeMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<BridgeMetrics>();
        return services;
    }

    /// <summary>Registers <see cref="InMemoryEventLog"/>: events kept in this process only, for tests and demos.</summary>
    public static IServiceCollection AddInMemoryEventLog(this IServiceCollection services)
    {
        services.TryAddSingleton<IEventLog, InMemoryEventLog>();
        return services;
    }

    /// <summary>
    /// Registers <see cref="IngestBatchProcessor"/>, the rules that turn broker messages into events, with
    /// <see cref="IngestOptions"/> bound from the <c>Ingest</c> section.
    /// </summary>
    public static IServiceCollection AddBridgeIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<IngestOptions>(configuration, IngestOptions.SectionName);
        services.TryAddSingleton<IngestBatchProcessor>();
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
}
