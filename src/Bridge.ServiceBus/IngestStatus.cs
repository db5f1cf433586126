using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bridge.ServiceBus;

/// <summary>
/// Whether the receivers can reach the subscription, for the health endpoint: the last receive's result. A receive
/// that fails (an unknown topic, a refused credential, a network outage) reports the check degraded until one
/// succeeds: subscribers and HTTP publishers are still served, so the instance stays in rotation.
/// </summary>
internal sealed class IngestStatus(IngestSource source) : IHealthCheck
{
    private volatile string? _lastFailure;

    public void Received() => _lastFailure = null;

    public void Failed(Exception exception) => _lastFailure = $"Receiving from {source} failed: {exception.GetType().Name}: {exception.Message}";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !source.Enabled ? HealthCheckResult.Healthy("Off: ServiceBusConnection is not set, so events arrive over HTTP only.")
            : _lastFailure is { } failure ? HealthCheckResult.Degraded(failure)
            : HealthCheckResult.Healthy($"Receiving from {source}."));
}
