using Bridge.Http;

namespace Bridge.Server;

/// <summary>Builds the standalone server, so that tests and <c>Program</c> host exactly the same app.</summary>
public static class BridgeServer
{
    /// <summary>The settings file read from the app's directory, beneath environment variables and arguments.</summary>
    public const string SettingsFileName = "local.settings.json";

    /// <summary>Creates the app: configuration, services, middleware and routes.</summary>
    /// <param name="args">Command-line arguments, such as <c>--urls</c>.</param>
    /// <param name="configure">Last-minute changes to the builder, for tests.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Lowest precedence: environment variables (Sse__HeartbeatSeconds) and arguments override the file.
        builder.Configuration.Sources.Insert(0, new LocalSettingsConfigurationSource(Path.Combine(AppContext.BaseDirectory, SettingsFileName)));
        builder.Services.AddBridgeCore(builder.Configuration).AddTableEventLog(builder.Configuration);
        var server = builder.Configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>() ?? new ServerOptions();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = server.InlineScheduling);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxConcurrentConnections = server.EffectiveMaxConnections());
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseRouting();
        app.UseWhen(context => !EventStreamEndpoint.Is(context), everythingElse =>
        {
            everythingElse.UseExceptionHandler();
            everythingElse.UseStatusCodePages();
        });
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapBridgeApi();
        return app;
    }
}
