using Azure.Core;
using Azure.Identity;
using Bridge.Events;
using Bridge.TableStorage;
using Bridge.TableStorage.Rest;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Table Storage event log.</summary>
public static class TableStorageServiceCollectionExtensions
{
    /// <summary>The setting that names the storage account, as in Azure Functions.</summary>
    public const string ConnectionSetting = "AzureWebJobsStorage";

    /// <summary>
    /// Registers <see cref="TableEventLog"/> as the <see cref="IEventLog"/>, with a health check named "storage".
    /// </summary>
    /// <remarks>
    /// The account comes from <c>AzureWebJobsStorage</c>, read the way Azure Functions reads it: a connection string
    /// (default <c>UseDevelopmentStorage=true</c>), or, for a managed identity, <c>AzureWebJobsStorage__accountName</c>
    /// or <c>AzureWebJobsStorage__tableServiceUri</c>, with <c>AzureWebJobsStorage__credential=managedidentity</c> and
    /// <c>AzureWebJobsStorage__clientId</c> for a user-assigned identity. Other settings are in
    /// <see cref="TableEventLogOptions"/>.
    /// </remarks>
    public static IServiceCollection AddTableEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<TableEventLogOptions>(configuration, TableEventLogOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LocalCommitFeed>();
        services.TryAddSingleton(provider =>
            CreateTableClient(configuration, provider.GetRequiredService<IOptions<TableEventLogOptions>>().Value));
        services.TryAddSingleton<TableEventLog>();
        services.TryAddSingleton<IEventLog>(provider => provider.GetRequiredService<TableEventLog>());
        services.AddHealthChecks().AddCheck<TableEventLogHealthCheck>("storage");
        return services;
    }

    /// <summary>Creates the client for the events table from <c>AzureWebJobsStorage</c>.</summary>
    public static TableClient CreateTableClient(IConfiguration configuration, TableEventLogOptions options)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(options.NetworkTimeoutSeconds);

        var connectionString = configuration[ConnectionSetting];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new TableClient(connectionString, options.EventsTable, clientOptions);
        }

        var identity = configuration.GetSection(ConnectionSetting);
        var serviceUri = identity["tableServiceUri"] is { Length: > 0 } uri
            ? new Uri(uri)
            : identity["accountName"] is { Length: > 0 } account
                ? new Uri($"https://{account}.table.core.windows.net")
                : null;
        if (serviceUri is null)
        {
            return new TableClient("UseDevelopmentStorage=true", options.EventsTable, clientOptions);
        }

        TokenCredential credential = string.Equals(identity["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(identity["clientId"] is { Length: > 0 } clientId
                ? ManagedIdentityId.FromUserAssignedClientId(clientId)
                : ManagedIdentityId.SystemAssigned)
            : new DefaultAzureCredential();
        return new TableClient(serviceUri, options.EventsTable, credential, clientOptions);
    }
}
