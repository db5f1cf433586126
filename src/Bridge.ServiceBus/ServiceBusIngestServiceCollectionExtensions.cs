using Azure.Messaging.ServiceBus;
using Bridge.ServiceBus;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Service Bus ingest for a long-running host.</summary>
public static class ServiceBusIngestServiceCollectionExtensions
{
    /// <summary>
    /// Registers receivers on <c>ServiceBusTopic</c>/<c>ServiceBusSubscription</c> that run when
    /// <c>ServiceBusConnection</c> is set (the topic and subscription are then required, checked at start-up), tuned by
    /// <see cref="ServiceBusIngestOptions"/>, with a health check named "servicebus". The <see cref="ServiceBusClient"/>
    /// is registered with <c>Microsoft.Extensions.Azure</c>. Without a connection the receivers do not start and the
    /// host ingests over HTTP only.
    /// </summary>
    public static IServiceCollection AddServiceBusIngest(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddBridgeIngestion(configuration);
        services.TryAddSingleton(_ => IngestSource.From(configuration));
        services.AddValidatedSettings<ServiceBusIngestOptions>(configuration, ServiceBusIngestOptions.SectionName)
            .Validate<IngestSource>(
                (_, source) => !source.Enabled || (source.Topic.Length > 0 && source.Subscription.Length > 0),
                $"{ServiceBusSettings.Connection} is set, so {ServiceBusSettings.Topic} and {ServiceBusSettings.Subscription} must name the topic and subscription to ingest.");
        services.AddAzureClients(clients => clients.AddClient<ServiceBusClient, ServiceBusClientOptions>((options, provider) =>
            ServiceBusConnection.CreateClient(configuration, options, provider.GetRequiredService<AzureComponentFactory>())));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IngestStatus>();
        services.AddHealthChecks().Add(new HealthCheckRegistration("servicebus", provider => provider.GetRequiredService<IngestStatus>(), failureStatus: null, tags: null));
        services.AddHostedService<ServiceBusIngestService>();
        return services;
    }
}
