using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Bridge.Telemetry;

namespace Bridge.TableStorage.Retention;

/// <summary>
/// Removes the events of one stream that its <see cref="RetentionRule"/> no longer keeps, in batch transactions of
/// 100 deletes.
/// </summary>
/// <remarks>
/// <para>
/// Before deleting, a pruner claims the ids it will remove by raising <c>Through</c> on the stream's <c>pruned</c> row
/// with If-Match, so that several instances pruning at once never claim the same ids, and a reader that finds ids
/// missing can tell pruned events (at or below <c>Through</c>) from rows that were lost.
/// </para>
/// <para>
/// The head row is never deleted, and neither is any of the stream's last <c>windowSize</c> events, whose keys the
/// idempotency window reads to recognise a redelivery.
/// </para>
/// </remarks>
internal sealed class StreamPruner(TableClient table, int windowSize, TimeProvider time, BridgeMetrics metrics)
{
    /// <summary>The most events one round claims from one stream, so that a round's cost stays bounded.</summary>
    public const int MaxEventsPerRound = 10_000;

    private const int DeletesPerTransaction = AzureTableLimits.MaxTransactionOperations;

    /// <summary>Prunes <paramref name="stream"/> by <paramref name="rule"/>; returns how many events were deleted.</summary>
    public async Task<int> PruneAsync(StreamName stream, RetentionRule rule, CancellationToken cancellationToken)
    {
        if (rule.KeepsEverything)
        {
            return 0;
        }

        var (lastId, marker) = await ReadHeadAndMarkerAsync(stream, cancellationToken).ConfigureAwait(false);
        var prunedThrough = marker?.GetInt64(EventRows.PrunedThroughProperty) ?? 0;
        var newestPrunable = Math.Min(lastId - windowSize, prunedThrough + MaxEventsPerRound);
        if (newestPrunable <= prunedThrough)
        {
            return 0;
        }

        var through = Math.Max(
            rule.MaxEvents > 0 ? Math.Min(newestPrunable, lastId - rule.MaxEvents) : 0,
            rule.MaxAge > TimeSpan.Zero ? await NewestOlderThanAsync(stream, prunedThrough, newestPrunable, time.GetUtcNow() - rule.MaxAge, cancellationToken).ConfigureAwait(false) : 0);
        if (through <= prunedThrough || !await ClaimAsync(stream, marker, through, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        return await DeleteThroughAsync(stream, through, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One query for the head's last id and the <c>pruned</c> row, which sorts right after it.</summary>
    private async Task<(long LastId, TableEntity? Marker)> ReadHeadAndMarkerAsync(StreamName stream, CancellationToken cancellationToken)
    {
        metrics.StorageTransactions.Add(1, StorageKind.Query);
        var lastId = 0L;
        TableEntity? marker = null;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {stream.Value} and RowKey ge {EventRows.HeadRowKey} and RowKey le {EventRows.PrunedRowKey}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, 2, [nameof(HeadEntity.RowKey), nameof(HeadEntity.LastId), EventRows.PrunedThroughProperty], cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey == EventRows.HeadRowKey)
            {
                lastId = row.GetInt64(nameof(HeadEntity.LastId)) ?? 0;
            }
            else if (row.RowKey == EventRows.PrunedRowKey)
            {
                marker = row;
            }
        }

        return (lastId, marker);
    }

    /// <summary>The highest id in (<paramref name="afterId"/>, <paramref name="throughId"/>] stored before <paramref name="cutoff"/>.</summary>
    private async Task<long> NewestOlderThanAsync(StreamName stream, long afterId, long throughId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var newest = 0L;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {stream.Value} and RowKey gt {EventRows.RowKey(afterId)} and RowKey le {EventRows.RowKey(throughId)} and StoredAt lt {cutoff}");
        await foreach (var page in table.QueryAsync<TableEntity>(filter, AzureTableLimits.MaxPageSize, [nameof(EventEntity.RowKey)], cancellationToken).AsPages().ConfigureAwait(false))
        {
            metrics.StorageTransactions.Add(1, StorageKind.Query);
            if (page.Values.Count > 0)
            {
                newest = EventRows.IdOf(page.Values[^1].RowKey);
            }
        }

        return newest;
    }

    /// <summary>Raises the stream's pruned mark to <paramref name="through"/>; false when another pruner moved it first.</summary>
    private async Task<bool> ClaimAsync(StreamName stream, TableEntity? marker, long through, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(stream.Value, EventRows.PrunedRowKey) { [EventRows.PrunedThroughProperty] = through };
        try
        {
            metrics.StorageTransactions.Add(1, StorageKind.Prune);
            await (marker is null
                ? table.AddEntityAsync(claim, cancellationToken)
                : table.UpdateEntityAsync(claim, marker.ETag, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException lost) when (lost.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes the event rows at or below <paramref name="through"/>, including any an earlier pruner claimed and did
    /// not finish.
    /// </summary>
    private async Task<int> DeleteThroughAsync(StreamName stream, long through, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var batch = new List<TableTransactionAction>(DeletesPerTransaction);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {stream.Value} and RowKey le {EventRows.RowKey(through)}");
        await foreach (var page in table.QueryAsync<TableEntity>(filter, AzureTableLimits.MaxPageSize, [nameof(EventEntity.RowKey)], cancellationToken).AsPages().ConfigureAwait(false))
        {
            metrics.StorageTransactions.Add(1, StorageKind.Query);
            foreach (var row in page.Values)
            {
                batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(stream.Value, row.RowKey), ETag.All));
                if (batch.Count == DeletesPerTransaction)
                {
                    deleted += await DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return deleted + await DeleteAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> DeleteAsync(List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        var count = batch.Count;
        try
        {
            metrics.StorageTransactions.Add(1, StorageKind.Prune);
            await table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
            metrics.EventsPruned.Add(count);
            return count;
        }
        catch (TableTransactionFailedException gone) when (gone.Status == 404)
        {
            // Another pruner deleted some of these rows first; what is left goes in a later round.
            return 0;
        }
        finally
        {
            batch.Clear();
        }
    }
}
