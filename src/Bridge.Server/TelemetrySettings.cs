namespace Bridge.Server;

/// <summary>
/// Where the standalone server sends its metrics and traces, bound from the <c>Telemetry</c> section. OTLP needs no
/// setting here: it is on when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable is set, and every other
/// <c>OTEL_*</c> variable applies as OpenTelemetry documents it.
/// </summary>
public sealed class TelemetrySettings
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>
    /// <c>Telemetry__PrometheusScrapeEndpoint</c>: serve the metrics for Prometheus at <c>GET /metrics</c>. Off by
    /// default: the page is not authorized, so expose it only where scrapers, not the public, can reach it.
    /// </summary>
    public bool PrometheusScrapeEndpoint { get; set; }

    /// <summary>The standard variable that turns OTLP export on.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
}
