using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace Bridge.TableStorage;

/// <summary>
/// Reads the storage account from <c>AzureWebJobsStorage</c> the way Azure Functions reads it, so one setting serves
/// the Functions app and the standalone server alike.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A connection string: with an account key, with a SAS (<c>SharedAccessSignature=…</c>), or
/// <c>UseDevelopmentStorage=true</c> (Azurite at 127.0.0.1:10002). It may also sit in
/// <c>ConnectionStrings:AzureWebJobsStorage</c>.</item>
/// <item>Identity-based: <c>AzureWebJobsStorage__tableServiceUri</c>, or <c>AzureWebJobsStorage__accountName</c> for
/// <c>https://{account}.table.core.windows.net</c>, with the credential read from the same section by
/// <c>Microsoft.Extensions.Azure</c> (<c>__credential=managedidentity</c>, <c>__clientId</c> for a user-assigned
/// identity; <c>DefaultAzureCredential</c> when no credential is named).</item>
/// <item>Nothing set: <c>UseDevelopmentStorage=true</c>.</item>
/// </list>
/// </remarks>
public static class StorageAccountConnection
{
    /// <summary>The setting that names the storage account, as in Azure Functions.</summary>
    public const string SettingName = "AzureWebJobsStorage";

    private const string DevelopmentStorage = "UseDevelopmentStorage=true";

    /// <summary>Creates the client for the account that <c>AzureWebJobsStorage</c> names.</summary>
    /// <exception cref="InvalidOperationException">The setting is present but unusable; the message says why.</exception>
    public static TableServiceClient CreateServiceClient(IConfiguration configuration, TableClientOptions options, AzureComponentFactory credentials)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(credentials);
        var connectionString = configuration[SettingName] is { Length: > 0 } value ? value : configuration.GetConnectionString(SettingName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                return new TableServiceClient(connectionString, options);
            }
            catch (Exception exception) when (exception is FormatException or ArgumentException or InvalidOperationException)
            {
                // The SDK's message may quote the string, key included; say what is wrong without it.
                throw new InvalidOperationException(
                    $"{SettingName} is not a storage connection string that names a table endpoint and a key or SAS " +
                    $"({exception.GetType().Name}). Use AccountName/AccountKey, TableEndpoint/SharedAccessSignature, or {DevelopmentStorage}.");
            }
        }

        return IdentityBased(configuration.GetSection(SettingName), credentials) is var (endpoint, credential)
            ? new TableServiceClient(endpoint, credential, options)
            : new TableServiceClient(DevelopmentStorage, options);
    }

    /// <summary>
    /// The table endpoint and credential of an identity-based connection: <c>tableServiceUri</c>, or the account's
    /// public endpoint from <c>accountName</c>; null when the section names neither.
    /// </summary>
    internal static (Uri Endpoint, TokenCredential Credential)? IdentityBased(IConfigurationSection section, AzureComponentFactory credentials)
    {
        var endpoint = section["tableServiceUri"] is { Length: > 0 } uri
            ? new Uri(uri)
            : section["accountName"] is { Length: > 0 } account
                ? new Uri($"https://{account}.table.core.windows.net")
                : null;
        return endpoint is null ? null : (endpoint, credentials.CreateTokenCredential(section));
    }
}
