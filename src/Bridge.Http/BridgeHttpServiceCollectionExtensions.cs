using Bridge.Http.Admission;
using Bridge.Http.Endpoints;
using Bridge.Http.Requests;
using Bridge.Http.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Bridge's HTTP API: its endpoints, authorization, admission and limits.</summary>
public static class BridgeHttpServiceCollectionExtensions
{
    /// <summary>
    /// Registers the endpoints with their authorization and limits, binding <see cref="AuthOptions"/>,
    /// <see cref="LimitsOptions"/> and <see cref="PublishOptions"/> from their sections, validated at start-up. The
    /// engine must be registered too (<c>AddBridgeCore</c>), with an event log.
    /// </summary>
    public static IServiceCollection AddBridgeHttp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedSettings<AuthOptions>(configuration, AuthOptions.SectionName);
        services.AddValidatedSettings<LimitsOptions>(configuration, LimitsOptions.SectionName);
        services.AddValidatedSettings<PublishOptions>(configuration, PublishOptions.SectionName);
        services.TryAddSingleton<TokenValidator>();
        services.TryAddSingleton<StreamAuthorizer>();
        services.TryAddSingleton<SubscriberAdmission>();
        services.TryAddSingleton<PublishRateLimiter>();
        services.TryAddSingleton<BatchRequestReader>();
        services.TryAddSingleton<HttpPublisher>();
        services.TryAddSingleton<SubscribeEndpoint>();
        services.TryAddSingleton<PublishEndpoint>();
        services.TryAddSingleton<PublishBatchEndpoint>();
        services.TryAddSingleton<SessionCookieEndpoints>();
        services.TryAddSingleton<HealthEndpoint>();
        services.AddHostedService<AuthModeNotice>();

        // ASP.NET Core's request lines log the full URL, and a subscriber's token may be in its query: keep them out
        // of the logs whatever the logging settings say (a rule added after the configuration's wins over it). With the
        // category off entirely, hosting also skips the log scope and Activity it keeps for each open request, which
        // is 0.8 KB of each idle SSE connection (docs/benchmarks.md).
        services.Configure<LoggerFilterOptions>(filters => filters.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None));
        services.AddHealthChecks();
        services.AddProblemDetails();
        return services;
    }
}
