using Bridge.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bridge.Testing;

/// <summary>
/// The standalone server hosted in the test process, on real Kestrel at a free loopback port, with the same app
/// setup as <c>Program</c> (<see cref="BridgeServer.Create"/>).
/// </summary>
public sealed class BridgeTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BridgeTestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client for this server. It has no timeout: tests bound their waits with cancellation tokens.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server on the shared Azurite with extra settings (section:key form).</summary>
    public static async Task<BridgeTestServer> StartOnSharedAzuriteAsync(params (string Key, string? Value)[] settings) =>
        await StartAsync((await AzuriteProcess.Shared).ConnectionString, settings.ToDictionary(pair => pair.Key, pair => pair.Value));

    /// <summary>Starts a server on <paramref name="storageConnectionString"/> with extra settings (section:key form).</summary>
    public static async Task<BridgeTestServer> StartAsync(string storageConnectionString, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = storageConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestClientLimits.Settings)
        {
            all[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

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
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // Settings that fail validation stop the start; the app must still let go of what it holds.
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BridgeTestServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
