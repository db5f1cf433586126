using Bridge.DevKit;
using Bridge.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Bridge.Testing;

/// <summary>
/// The standalone server hosted in the test process, on real Kestrel at a free loopback port, with the same app
/// setup as <c>Program</c> (<see cref="BridgeServer.Create"/>).
/// </summary>
public sealed class BridgeTestServer : InProcessServer
{
    private BridgeTestServer(WebApplication app, Uri baseAddress)
        : base(app, baseAddress)
    {
    }

    /// <summary>Starts a server on the shared Azurite with extra settings (section:key form).</summary>
    public static async Task<BridgeTestServer> StartOnSharedAzuriteAsync(params (string Key, string? Value)[] settings) =>
        await StartAsync((await AzuriteProcess.Shared).ConnectionString, settings.ToDictionary(pair => pair.Key, pair => pair.Value));

    /// <summary>Starts a server on <paramref name="storageConnectionString"/> with extra settings (section:key form).</summary>
    public static async Task<BridgeTestServer> StartAsync(
        string storageConnectionString,
        IDictionary<string, string?>? settings = null,
        ILoggerProvider? logs = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var all = Settings(
            new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = storageConnectionString,
                ["Logging:LogLevel:Default"] = "Warning",

                // local.settings.json names the local Service Bus endpoint; a test that wants ingest names its own.
                ["ServiceBusConnection"] = string.Empty,
            },
            settings);
        var app = BridgeServer.Create(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            if (logs is null)
            {
                builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            }
            else
            {
                builder.Logging.AddProvider(logs);
            }

            configure?.Invoke(builder);
        });
        return new BridgeTestServer(app, await StartAsync(app));
    }
}
