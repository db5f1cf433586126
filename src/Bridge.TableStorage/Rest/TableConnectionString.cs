using Azure;

namespace Bridge.TableStorage.Rest;

/// <summary>
/// The parts of an Azure Storage connection string that the Table service needs: the endpoint and the account key.
/// </summary>
/// <remarks>
/// Accepted forms: <c>UseDevelopmentStorage=true</c> (Azurite on 127.0.0.1:10002), and
/// <c>AccountName=…;AccountKey=…</c> with either <c>TableEndpoint=…</c> or <c>DefaultEndpointsProtocol</c> and
/// <c>EndpointSuffix</c>. Error messages never repeat the connection string, because it holds a secret.
/// </remarks>
public sealed record TableConnectionString(Uri TableEndpoint, AzureNamedKeyCredential Credential)
{
    /// <summary>Azurite's account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's account key: the well-known development key that Microsoft publishes. Not a secret.</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Parses a connection string.</summary>
    /// <exception cref="FormatException">The string is not a usable connection string; the message says what is missing.</exception>
    public static TableConnectionString Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException("The storage connection string is malformed: each part must look like Name=Value.");
            }

            settings[part[..equals]] = part[(equals + 1)..];
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var development) &&
            development.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            var proxy = settings.TryGetValue("DevelopmentStorageProxyUri", out var proxyUri)
                ? new Uri(proxyUri)
                : new Uri("http://127.0.0.1");
            return new TableConnectionString(
                new Uri($"{proxy.Scheme}://{proxy.Host}:10002/{DevelopmentAccountName}"),
                new AzureNamedKeyCredential(DevelopmentAccountName, DevelopmentAccountKey));
        }

        if (settings.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException(
                "Storage connection strings with a SharedAccessSignature are not supported. " +
                "Use an AccountKey, or a managed identity (see README, \"Pointing at a real storage account\").");
        }

        if (!settings.TryGetValue("AccountName", out var accountName) || accountName.Length == 0)
        {
            throw new FormatException("The storage connection string has no AccountName.");
        }

        if (!settings.TryGetValue("AccountKey", out var accountKey) || accountKey.Length == 0)
        {
            throw new FormatException("The storage connection string has no AccountKey.");
        }

        Uri endpoint;
        if (settings.TryGetValue("TableEndpoint", out var tableEndpoint))
        {
            endpoint = new Uri(tableEndpoint.TrimEnd('/'));
        }
        else
        {
            var protocol = settings.GetValueOrDefault("DefaultEndpointsProtocol", "https");
            var suffix = settings.GetValueOrDefault("EndpointSuffix", "core.windows.net");
            endpoint = new Uri($"{protocol}://{accountName}.table.{suffix}");
        }

        return new TableConnectionString(endpoint, new AzureNamedKeyCredential(accountName, accountKey));
    }
}
