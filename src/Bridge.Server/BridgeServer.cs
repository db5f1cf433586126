using Bridge.Http.Endpoints;
using Bridge.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

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
        builder.Services.AddBridgeCore(builder.Configuration).AddBridgeHttp(builder.Configuration).AddTableEventLog(builder.Configuration);

        // After the engine, so it stops first: batches in flight are stored before the hub and the log stop.
        builder.Services.AddServiceBusIngest(builder.Configuration);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Kestrel__Limits__* (RequestHeadersTimeout, MaxRequestHeadersTotalSize, KeepAliveTimeout…) from any source,
            // local.settings.json included; the connection cap is Server__MaxConnections.
            context.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            kestrel.Limits.MaxConcurrentConnections = ServerOptions.From(context.Configuration).EffectiveMaxConnections();
        });
        builder.Services.AddOptions<SocketTransportOptions>().Configure<IConfiguration>((sockets, configuration) =>
            sockets.UnsafePreferInlineScheduling = ServerOptions.From(configuration).InlineScheduling);
        builder.Services.AddValidatedSettings<CorsSettings>(builder.Configuration, CorsSettings.SectionName);
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<IOptions<CorsSettings>>((cors, settings) => cors.AddDefaultPolicy(policy => Allow(policy, settings.Value)));
        var telemetry = AddTelemetry(builder);
        configure?.Invoke(builder);

        var app = builder.Build();
        if (telemetry.PrometheusScrapeEndpoint)
        {
            app.MapPrometheusScrapingEndpoint();
        }

        // Before routing: the API's one policy is the default, so CORS needs no endpoint; after routing, the middleware
        // would tag every request with an item that an idle SSE connection carries for its whole life (about 0.7 KB).
        app.UseCors();
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

    /// <summary>
    /// Bridge's meter in an OpenTelemetry pipeline, served for Prometheus when
    /// <see cref="TelemetrySettings.PrometheusScrapeEndpoint"/> is on; and with its spans, exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Spans are recorded only then: with nowhere to send them, each publish
    /// would still build one.
    /// </summary>
    private static TelemetrySettings AddTelemetry(WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedSettings<TelemetrySettings>(builder.Configuration, TelemetrySettings.SectionName);
        var settings = builder.Configuration.GetSection(TelemetrySettings.SectionName).Get<TelemetrySettings>() ?? new TelemetrySettings();
        var openTelemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("bridge"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(BridgeMetrics.MeterName);
                if (settings.PrometheusScrapeEndpoint)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (!string.IsNullOrEmpty(builder.Configuration[TelemetrySettings.OtlpEndpointVariable]))
        {
            openTelemetry.WithTracing(tracing => tracing.AddSource(BridgeMetrics.ActivitySourceName)).UseOtlpExporter();
        }

        return settings;
    }

    /// <summary>
    /// The CORS policy: the listed origins (none by default), the API's methods, and the headers a fetch() client sends:
    /// Authorization (bearer tokens), Idempotency-Key, Last-Event-ID. Preflights are cached for ten minutes.
    /// </summary>
    private static void Allow(CorsPolicyBuilder policy, CorsSettings settings)
    {
        if (settings.AnyOrigin)
        {
            policy.AllowAnyOrigin();
        }
        else
        {
            policy.WithOrigins([.. settings.Origins]);
            if (settings.AllowCredentials)
            {
                policy.AllowCredentials();
            }
        }

        policy.WithMethods("GET", "POST", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "Accept", "Cache-Control")
            .WithExposedHeaders("Retry-After", "WWW-Authenticate")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
    }
}
