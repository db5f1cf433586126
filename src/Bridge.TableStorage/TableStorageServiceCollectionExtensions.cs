using Azure.Data.Tables;
using Bridge.Events;
using Bridge.TableStorage;
using Bridge.TableStorage.Retention;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Table Storage event log.</summary>
public static class TableStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TableEventLog"/> as the <see cref="IEventLog"/>, with a health check named "storage". The
    /// account's <see cref="TableServiceClient"/> is registered with <c>Microsoft.Extensions.Azure</c>, from
    /// <c>AzureWebJobsStorage</c> (see <see cref="StorageAccountConnection"/>); the retry settings come from
    /// <see cref="TableEventLogOptions"/>. Retention (<see cref="RetentionOptions"/>) runs as a hosted service.
    /// </summary>
    public static IServiceCollection AddTableEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<TableEventLogOptions>(configuration, TableEventLogOptions.SectionName);
        services.AddAzureClients(clients => clients
            .AddClient<TableServiceClient, TableClientOptions>((options, provider) =>
                StorageAccountConnection.CreateServiceClient(configuration, options, provider.GetRequiredService<AzureComponentFactory>()))
            .ConfigureOptions((options, provider) =>
            {
                var storage = provider.GetRequiredService<IOptions<TableEventLogOptions>>().Value;
                options.Retry.MaxRetries = storage.MaxRetries;
                options.Retry.NetworkTimeout = TimeSpan.FromSeconds(storage.NetworkTimeoutSeconds);
            }));
        services.TryAddSingleton(TimeProvider.System);
        services.AddBridgeMetrics();
        services.TryAddSingleton<TableEventLog>();
        services.TryAddSingleton<IEventLog>(provider => provider.GetRequiredService<TableEventLog>());
        services.AddHealthChecks().AddCheck<TableEventLogHealthCheck>("storage");
        services.AddValidatedSettings<RetentionOptions>(configuration, RetentionOptions.SectionName);
        services.AddHostedService<RetentionService>();
        return services;
    }
}
