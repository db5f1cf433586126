using Azure;
using Bridge.TableStorage.Rest;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bridge.TableStorage;

/// <summary>Reports whether the events table's storage account answers.</summary>
public sealed class TableEventLogHealthCheck(TableClient table) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await table.GetTableAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Table {table.Name} is reachable.");
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return HealthCheckResult.Healthy($"Storage is reachable; table {table.Name} is created on first use.");
        }
        catch (RequestFailedException exception)
        {
            return HealthCheckResult.Unhealthy(
                $"Storage did not answer as expected ({exception.Status} {exception.ErrorCode}).", exception);
        }
    }
}
