using Bridge.Events;

namespace Bridge.TableStorage;

/// <summary>
/// One entity group transaction being prepared or in flight: the new events it writes (ids from its first id on),
/// the outcome of every queued event it settles, duplicates included, and how far into each append it reaches. It is
/// applied only once it has committed.
/// </summary>
internal sealed class StagedTransaction
{
    private readonly Dictionary<string, long> _newIdsByKey = new(StringComparer.Ordinal);
    private readonly long _firstId;
    private readonly string _epoch;

    private StagedTransaction(StreamName stream, Uri tableUri, long firstId, string epoch, DateTimeOffset storedAt)
    {
        Transaction = new BoundedTransaction(stream.Value, tableUri);
        _firstId = firstId;
        _epoch = epoch;
        StoredAt = storedAt;
    }

    public BoundedTransaction Transaction { get; }

    /// <summary>Written on the first row, so that a commit whose response was lost can be recognised.</summary>
    public Guid CommitToken { get; } = Guid.NewGuid();

    public DateTimeOffset StoredAt { get; }

    public long LastId => _firstId + Events.Count - 1;

    /// <summary>The events this transaction writes, in id order.</summary>
    public List<StoredEvent> Events { get; } = [];

    public List<(PendingAppend Append, int Index, AppendResult Result)> Results { get; } = [];

    /// <summary>For each append this transaction reaches into, the index of the first event it leaves for later.</summary>
    public Dictionary<PendingAppend, int> Ends { get; } = [];

    /// <summary>True when it settles nothing at all.</summary>
    public bool IsEmpty => Results.Count == 0;

    /// <summary>
    /// Stages the next transaction from the front of <paramref name="queued"/>: resolves duplicates (against the
    /// writer's key window, the transaction in flight and this one) and encodes new events, up to 99 and 4 MiB, leaving
    /// room for the head row. With a <paramref name="previous"/> transaction in flight, it continues after it and
    /// assumes it commits.
    /// </summary>
    /// <remarks>
    /// An append that could fit in one transaction is never split across two: if it does not fit in what is left, the
    /// transaction ends before it. So such an append commits atomically, with contiguous ids (see
    /// <see cref="IEventLog.AppendAsync"/>).
    /// </remarks>
    public static StagedTransaction Stage(
        StreamName stream,
        Uri tableUri,
        IReadOnlyList<PendingAppend> queued,
        StagedTransaction? previous,
        StreamWriterState writer,
        DateTimeOffset now)
    {
        var staged = new StagedTransaction(stream, tableUri, (previous?.LastId ?? writer.LastId) + 1, writer.Epoch.Id, now);
        staged.Fill(stream, queued, previous, writer);
        return staged;
    }

    /// <summary>
    /// Adds what was queued since this transaction was staged, once the one that was in flight then has committed and
    /// been applied: so an append that arrived during that round trip goes with the next one rather than the one after.
    /// </summary>
    public void TopUp(StreamName stream, IReadOnlyList<PendingAppend> queued, StreamWriterState writer) =>
        Fill(stream, queued, previous: null, writer);

    /// <summary>Takes events from <paramref name="queued"/>, after those already taken, until one does not fit.</summary>
    private void Fill(StreamName stream, IReadOnlyList<PendingAppend> queued, StagedTransaction? previous, StreamWriterState writer)
    {
        var headCost = Transaction.HeadCost;
        foreach (var append in queued)
        {
            var index = EndOf(append) ?? previous?.EndOf(append) ?? append.Next;
            if (index == append.Events.Count)
            {
                continue;
            }

            if (index == 0 && Events.Count > 0 && !CanTakeWhole(stream, append, headCost))
            {
                return;
            }

            for (; index < append.Events.Count; index++)
            {
                var newEvent = append.Events[index];
                var key = newEvent.IdempotencyKey?.Value;
                if (key is not null &&
                    (writer.TryGetId(key, out var originalId) || previous?.TryGetNewId(key, out originalId) == true || TryGetNewId(key, out originalId)))
                {
                    Results.Add((append, index, new AppendResult(originalId, IsDuplicate: true, _epoch)));
                    continue;
                }

                var id = LastId + 1;
                var row = EventRows.Encode(stream, id, newEvent, StoredAt, Events.Count == 0 ? CommitToken : null);
                if (!Transaction.TryAddInsert(row, reserveOperations: 1, reserveBytes: headCost))
                {
                    break;
                }

                AddNew(append, index, new StoredEvent(id, newEvent.Type, newEvent.Data, StoredAt, key));
            }

            Ends[append] = index;
            if (index < append.Events.Count)
            {
                return;
            }
        }
    }

    private int? EndOf(PendingAppend append) => Ends.TryGetValue(append, out var end) ? end : null;

    private bool TryGetNewId(string key, out long id) => _newIdsByKey.TryGetValue(key, out id);

    private void AddNew(PendingAppend append, int index, StoredEvent stored)
    {
        Events.Add(stored);
        Results.Add((append, index, new AppendResult(stored.Id, IsDuplicate: false, _epoch)));
        if (stored.IdempotencyKey is { } key)
        {
            _newIdsByKey[key] = stored.Id;
        }
    }

    /// <summary>
    /// False when all of <paramref name="append"/> would fit in an empty transaction but not in what is left of this
    /// one. An append too large for any one transaction is split anyway, so it may start here.
    /// </summary>
    private bool CanTakeWhole(StreamName stream, PendingAppend append, int headCost)
    {
        var capacity = AzureTableLimits.MaxTransactionOperations - 1;
        if (append.Events.Count > capacity)
        {
            return true;
        }

        var bytes = append.Events.Sum(newEvent => Transaction.CostOf(EventRows.Encode(stream, 0, newEvent, StoredAt, commit: null)));
        var fitsEmpty = bytes + headCost + BoundedTransaction.EmptyBytes <= AzureTableLimits.MaxTransactionBodyBytes;
        var fitsHere = Transaction.Actions.Count + append.Events.Count <= capacity
            && Transaction.EstimatedBytes + bytes + headCost <= AzureTableLimits.MaxTransactionBodyBytes;
        return fitsHere || !fitsEmpty;
    }
}
