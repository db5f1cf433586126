using Azure.Data.Tables;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bridge.TableStorage;

/// <summary>Reports whether the events table's storage account answers.</summary>
public sealed class TableEventLogHealthCheck(TableServiceClient account, IOptions<TableEventLogOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly string _table = options.Value.EventsTable;
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.OperationTimeoutSeconds);

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Silent storage must not hold the health endpoint with it: past the operation timeout, storage is unhealthy.
        using var deadline = new CancellationTokenSource(_timeout, time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            // One cheap request that needs the account and its credentials to work: list the events table by name.
            await foreach (var _ in account.QueryAsync(table => table.Name == _table, maxPerPage: 1, bounded.Token).AsPages().ConfigureAwait(false))
            {
                break;
            }

            return HealthCheckResult.Healthy($"Storage is reachable (table {_table}).");
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            return HealthCheckResult.Unhealthy($"Storage {StorageFailure.Describe(exception)}.", exception);
        }
    }
}
