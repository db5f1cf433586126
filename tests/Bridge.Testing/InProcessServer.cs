using Bridge.DevKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Testing;

/// <summary>
/// An app hosted in the test process on real Kestrel at a free loopback port, with a client for it. The standalone
/// server (<see cref="BridgeTestServer"/>) and the bare HTTP layer of the HTTP tests are both hosted this way.
/// </summary>
public class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    protected InProcessServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client for this server. It has no timeout: tests bound their waits with cancellation tokens.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// The settings a test server starts with: <paramref name="defaults"/>, the per-client limits raised for a test
    /// process that stands in for many users, then <paramref name="settings"/>, each overriding the ones before.
    /// </summary>
    public static Dictionary<string, string?> Settings(IDictionary<string, string?> defaults, IDictionary<string, string?>? settings)
    {
        var all = new Dictionary<string, string?>(defaults);
        foreach (var (key, value) in LoadGeneratorLimits.Settings)
        {
            all[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return all;
    }

    /// <summary>Starts <paramref name="app"/> (which listens on port 0) and returns its address.</summary>
    protected static async Task<Uri> StartAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
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

        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
