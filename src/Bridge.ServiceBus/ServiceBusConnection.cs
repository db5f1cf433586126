using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace Bridge.ServiceBus;

/// <summary>
/// Reads the namespace from <c>ServiceBusConnection</c> the way the Functions trigger reads it: a connection string
/// (Microsoft's or this repository's local endpoint, with <c>UseDevelopmentEmulator=true</c>), or
/// <c>ServiceBusConnection__fullyQualifiedNamespace</c> with the credential named in the same section
/// (<c>__credential=managedidentity</c>, <c>__clientId</c>; <c>DefaultAzureCredential</c> when none is named).
/// </summary>
public static class ServiceBusConnection
{
    /// <summary>Whether a namespace is configured at all; without one the server ingests over HTTP only.</summary>
    public static bool IsConfigured(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return ConnectionString(configuration) is not null || configuration.GetSection(ServiceBusSettings.Connection)["fullyQualifiedNamespace"] is { Length: > 0 };
    }

    /// <summary>Creates the client for the configured namespace.</summary>
    /// <exception cref="InvalidOperationException">The setting is unusable; the message says why without quoting it.</exception>
    public static ServiceBusClient CreateClient(IConfiguration configuration, ServiceBusClientOptions options, AzureComponentFactory credentials)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(credentials);
        if (ConnectionString(configuration) is { } connectionString)
        {
            try
            {
                return new ServiceBusClient(connectionString, options);
            }
            catch (Exception exception) when (exception is FormatException or ArgumentException)
            {
                // The SDK's message may quote the string, key included; say what is wrong without it.
                throw new InvalidOperationException(
                    $"{ServiceBusSettings.Connection} is not a Service Bus connection string ({exception.GetType().Name}): it needs Endpoint=sb://… and " +
                    "SharedAccessKeyName/SharedAccessKey or SharedAccessSignature. For an identity, set ServiceBusConnection__fullyQualifiedNamespace instead.");
            }
        }

        var section = configuration.GetSection(ServiceBusSettings.Connection);
        return new ServiceBusClient(section["fullyQualifiedNamespace"], credentials.CreateTokenCredential(section), options);
    }

    private static string? ConnectionString(IConfiguration configuration) =>
        configuration[ServiceBusSettings.Connection] is { Length: > 0 } value ? value
        : configuration.GetConnectionString(ServiceBusSettings.Connection) is { Length: > 0 } named ? named
        : null;
}
