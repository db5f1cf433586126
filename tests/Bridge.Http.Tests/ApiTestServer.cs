using Bridge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bridge.Http.Tests;

/// <summary>
/// The HTTP layer and the engine, with nothing else: the endpoints mapped on real Kestrel at a free loopback port,
/// over the in-memory event log. Fast, and no storage in the way.
/// </summary>
internal sealed class ApiTestServer : InProcessServer
{
    private ApiTestServer(WebApplication app, Uri baseAddress)
        : base(app, baseAddress)
    {
    }

    /// <summary>Starts a server with <paramref name="settings"/> (section:key form), in Open mode unless they say otherwise.</summary>
    public static async Task<ApiTestServer> StartAsync(IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(Settings(new Dictionary<string, string?> { ["Auth:Mode"] = "Open" }, settings));
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddBridgeCore(builder.Configuration).AddBridgeHttp(builder.Configuration).AddInMemoryEventLog();
        var app = builder.Build();
        app.MapBridgeApi();
        return new ApiTestServer(app, await StartAsync(app));
    }

    /// <summary>Starts a server with <paramref name="settings"/> given as pairs.</summary>
    public static Task<ApiTestServer> StartAsync(params (string Key, string? Value)[] settings) =>
        StartAsync(settings.ToDictionary(pair => pair.Key, pair => pair.Value));
}
