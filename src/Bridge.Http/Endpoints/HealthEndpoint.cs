using Microsoft.AspNetCore.Http;
using Bridge.Http.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>GET health</c>: 200 when healthy, 503 when storage cannot be reached; the body says which check failed, and
/// whether tokens are required (<c>auth</c>: <c>jwt</c> or <c>open</c>), which anyone could learn from a 401 anyway.
/// </summary>
public sealed class HealthEndpoint(HealthCheckService health, IOptions<AuthOptions> auth)
{
    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
        var body = new HealthResponse(
            report.Status.ToString(),
            auth.Value.Mode == AuthMode.Open ? "open" : "jwt",
            report.Entries.ToDictionary(entry => entry.Key, entry => new HealthCheckEntry(entry.Value.Status.ToString(), entry.Value.Description)));
        context.Response.Headers.CacheControl = "no-store";
        var status = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        await TypedResults.Json(body, System.Text.Json.JsonSerializerOptions.Web, statusCode: status).ExecuteAsync(context).ConfigureAwait(false);
    }

    private sealed record HealthResponse(string Status, string Auth, IReadOnlyDictionary<string, HealthCheckEntry> Checks);

    private sealed record HealthCheckEntry(string Status, string? Description);
}
