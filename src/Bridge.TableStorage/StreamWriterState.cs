using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Bridge.Telemetry;

namespace Bridge.TableStorage;

/// <summary>
/// What one writer knows of a stream: the last id, its epoch and the head row's ETag it last saw, and the idempotency
/// keys of the latest events. It is loaded from storage, and brought up to date from storage after this writer lost a
/// race or could not tell whether its last commit went through. Only the stream's drain task touches it.
/// </summary>
/// <remarks>
/// A head whose id is lower than one this writer knew was committed, in the same epoch, means storage lost
/// acknowledged events. Their ids are about to be issued again, so the writer starts a new epoch
/// (<see cref="StreamEpoch.ReplaceAfter"/>) that its next commit writes to the head.
/// </remarks>
internal sealed class StreamWriterState(StreamName stream, TableClient table, int windowSize, TimeProvider time, BridgeMetrics metrics)
{
    private readonly IdempotencyWindow _window = new(windowSize);
    private Freshness _freshness = Freshness.Unloaded;

    private enum Freshness
    {
        /// <summary>Nothing read yet: load the head and the key window.</summary>
        Unloaded,

        /// <summary>The last commit's outcome is unknown: read what was committed since <see cref="LastId"/>.</summary>
        Stale,

        /// <summary>The head ETag and key window match storage as far as this writer knows.</summary>
        Current,
    }

    /// <summary>The id of the last event this writer knows to be committed.</summary>
    public long LastId { get; private set; }

    /// <summary>The epoch of <see cref="LastId"/>, which this writer's next commit writes to the head.</summary>
    public StreamEpoch Epoch { get; private set; } = StreamEpoch.None;

    /// <summary>The head row's ETag as of <see cref="LastId"/>, or null when the stream has no head row yet.</summary>
    public ETag? HeadETag { get; private set; }

    /// <summary>The turns this writer takes with rivals, as the head it last read lists them.</summary>
    public WriterTurns Turns { get; } = new(time);

    /// <summary>True when the head this writer last read lists it among the writers taking turns.</summary>
    public bool Listed { get; private set; }

    /// <summary>The id of the event stored with <paramref name="key"/>, if it is within the window.</summary>
    public bool TryGetId(string key, out long id) => _window.TryGetId(key, out id);

    /// <summary>Records a commit of this writer's own.</summary>
    public void Committed(IReadOnlyList<StoredEvent> events, ETag? headETag)
    {
        foreach (var stored in events)
        {
            if (stored.IdempotencyKey is { } key)
            {
                _window.Remember(key, stored.Id);
            }
        }

        // A commit recognised only after catching up is already known, and other writers may have followed it.
        if (events.Count > 0 && events[^1].Id > LastId)
        {
            LastId = events[^1].Id;
            HeadETag = headETag;
        }

        _window.Slide(LastId);
    }

    /// <summary>Records that this writer added itself to the head's list, which moved the head's ETag to <paramref name="headETag"/>.</summary>
    public void Announced(ETag headETag)
    {
        HeadETag = headETag;
        Listed = true;
    }

    /// <summary>Marks the state as possibly behind storage, after a commit whose outcome is unknown.</summary>
    public void MarkStale() => _freshness = _freshness == Freshness.Unloaded ? Freshness.Unloaded : Freshness.Stale;

    /// <summary>Reads from storage whatever this writer does not know yet.</summary>
    public async Task BringUpToDateAsync(CancellationToken cancellationToken)
    {
        if (_freshness == Freshness.Unloaded)
        {
            await LoadAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_freshness == Freshness.Stale)
        {
            await CatchUpAsync(commitToken: null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Learns what other writers committed since <see cref="LastId"/>. Returns true when the transaction with
    /// <paramref name="commitToken"/>, thought lost, had in fact committed (its token is on the row after the last id
    /// this writer knew).
    /// </summary>
    public async Task<bool> CatchUpAsync(Guid? commitToken, CancellationToken cancellationToken)
    {
        // One query returns the rows committed after LastId and then the head, whose key sorts after every id's.
        metrics.StorageTransactions.Add(1, StorageKind.Query);
        var tokenRow = LastId + 1;
        var committed = false;
        var highestRead = LastId;
        var keys = new List<(string Key, long Id)>();
        HeadEntity? headRow = null;
        var rows = table.QueryAsync<TableEntity>(
            EventRows.AfterFilter(stream, LastId), AzureTableLimits.MaxPageSize, EventRows.CatchUpProjection, cancellationToken);
        await foreach (var row in rows.ConfigureAwait(false))
        {
            if (row.RowKey == EventRows.HeadRowKey)
            {
                headRow = HeadEntity.From(row);
                continue;
            }

            highestRead = EventRows.IdOf(row.RowKey);
            if (row.GetString(nameof(EventEntity.Key)) is { } key)
            {
                keys.Add((key, highestRead));
            }

            committed |= commitToken is not null && highestRead == tokenRow && row.GetGuid(nameof(EventEntity.Commit)) == commitToken;
        }

        var (head, etag) = Observe(headRow);
        if (!Continues(head))
        {
            // Another history: storage lost events, or the stream was deleted or restored. Start again from it.
            await LoadAsync(head, etag, cancellationToken).ConfigureAwait(false);
            return false;
        }

        foreach (var (key, id) in keys.Where(row => row.Id <= head.LastId))
        {
            _window.Remember(key, id);
        }

        // Rows committed while the query was between them and the head: read them on their own.
        LastId = Math.Min(highestRead, head.LastId);
        committed |= await RememberKeysAsync(head.LastId, commitToken, cancellationToken).ConfigureAwait(false);
        LastId = head.LastId;
        HeadETag = etag;
        _freshness = Freshness.Current;
        return committed;
    }

    /// <summary>
    /// True when storage still holds every event this writer knows of (the head is in the same epoch and no lower).
    /// When it does not, the writer reloads what storage holds, and starts a new epoch if events were lost.
    /// </summary>
    public async Task<bool> StillHoldsAsync(CancellationToken cancellationToken)
    {
        var (head, etag) = await ReadHeadAsync(cancellationToken).ConfigureAwait(false);
        if (Continues(head))
        {
            return true;
        }

        await LoadAsync(head, etag, cancellationToken).ConfigureAwait(false);
        return false;
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var (head, etag) = await ReadHeadAsync(cancellationToken).ConfigureAwait(false);
        await LoadAsync(head, etag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when <paramref name="head"/> is this writer's history, with nothing it knew of missing.</summary>
    private bool Continues(StreamHead head) => head.Epoch.Id == Epoch.Id && head.LastId >= LastId;

    /// <summary>
    /// The epoch to write from now on: a new one for a stream with no head; a new one that replaces the stored one when
    /// storage lost ids this writer knew were committed; otherwise the stored one.
    /// </summary>
    private StreamEpoch EpochFor(StreamHead head, ETag? etag)
    {
        if (etag is null)
        {
            return StreamEpoch.Start();
        }

        var lostKnownIds = _freshness != Freshness.Unloaded && head.Epoch.Id == Epoch.Id && head.LastId < LastId;
        return lostKnownIds ? head.Epoch.ReplaceAfter(head.LastId) : head.Epoch;
    }

    private async Task LoadAsync(StreamHead head, ETag? etag, CancellationToken cancellationToken)
    {
        Epoch = EpochFor(head, etag);
        _window.Clear();
        LastId = Math.Max(0, head.LastId - windowSize);
        await RememberKeysAsync(head.LastId, commitToken: null, cancellationToken).ConfigureAwait(false);
        LastId = head.LastId;
        HeadETag = etag;
        _freshness = Freshness.Current;
    }

    private async Task<bool> RememberKeysAsync(long throughId, Guid? commitToken, CancellationToken cancellationToken)
    {
        var tokenRow = LastId + 1;
        var committed = false;
        if (throughId > LastId)
        {
            metrics.StorageTransactions.Add(1, StorageKind.Query);
            var rows = table.QueryAsync<EventEntity>(
                EventRows.RangeFilter(stream, LastId, throughId), AzureTableLimits.MaxPageSize, EventRows.KeyProjection, cancellationToken);
            await foreach (var row in rows.ConfigureAwait(false))
            {
                var id = EventRows.IdOf(row);
                if (row.Key is { } key)
                {
                    _window.Remember(key, id);
                }

                committed |= commitToken is not null && id == tokenRow && row.Commit == commitToken;
            }
        }

        _window.Slide(throughId);
        return committed;
    }

    private async Task<(StreamHead Head, ETag? ETag)> ReadHeadAsync(CancellationToken cancellationToken)
    {
        metrics.StorageTransactions.Add(1, StorageKind.ReadHead);
        var head = await table.GetEntityIfExistsAsync<HeadEntity>(stream.Value, EventRows.HeadRowKey, EventRows.WriterHeadProjection, cancellationToken)
            .ConfigureAwait(false);
        return Observe(head.HasValue ? head.Value : null);
    }

    /// <summary>Takes in a head row just read: its rival writers, and the head itself (empty when there is none).</summary>
    private (StreamHead Head, ETag? ETag) Observe(HeadEntity? head)
    {
        Turns.Observe(head?.Writers);
        Listed = !Turns.IsUnlisted(head?.Writers);
        return head is null ? (StreamHead.Empty, null) : (head.ToHead(), head.ETag);
    }
}
