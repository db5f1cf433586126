namespace Bridge.Events;

/// <summary>
/// An event log kept in this process's memory: the same contract as the durable log, nothing survives a restart,
/// and other processes see nothing. For tests, and for trying Bridge without storage. Every call commits atomically.
/// </summary>
public sealed class InMemoryEventLog(TimeProvider time) : IEventLog
{
    private readonly Dictionary<StreamName, StreamLog> _streams = [];
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public Task<IReadOnlyList<AppendResult>> AppendAsync(StreamName stream, IReadOnlyList<NewEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new AppendResult[events.Count];
        lock (_gate)
        {
            var log = StreamOf(stream);
            var storedAt = time.GetUtcNow();
            for (var i = 0; i < events.Count; i++)
            {
                var key = events[i].IdempotencyKey?.Value;
                if (key is not null && log.IdsByKey.TryGetValue(key, out var original))
                {
                    results[i] = new AppendResult(original, IsDuplicate: true, log.Epoch.Id);
                    continue;
                }

                var stored = new StoredEvent(log.Events.Count + 1, events[i].Type, events[i].Data, storedAt, key);
                log.Events.Add(stored);
                if (key is not null)
                {
                    log.IdsByKey[key] = stored.Id;
                }

                results[i] = new AppendResult(stored.Id, IsDuplicate: false, log.Epoch.Id);
            }
        }

        return Task.FromResult<IReadOnlyList<AppendResult>>(results);
    }

    /// <inheritdoc />
    public Task<StreamHead> GetHeadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var log = StreamOf(stream);
            return Task.FromResult(new StreamHead(log.Events.Count, log.Epoch));
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<StoredEvent>> ReadAsync(
        StreamName stream,
        long afterId,
        long throughId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterId);
        for (var from = afterId; from < throughId; from += PageSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            StoredEvent[] page;
            lock (_gate)
            {
                var events = StreamOf(stream).Events;
                if (throughId > events.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(throughId), $"Stream '{stream}' ends at {events.Count}, before {throughId}.");
                }

                page = [.. events.Skip((int)from).Take((int)Math.Min(PageSize, throughId - from))];
            }

            yield return page;
            await Task.Yield();
        }
    }

    /// <summary>Events per page: a durable log's largest page, so readers meet page boundaries here too.</summary>
    private const int PageSize = 1000;

    private StreamLog StreamOf(StreamName name) => _streams.TryGetValue(name, out var log) ? log : _streams[name] = new StreamLog();

    private sealed class StreamLog
    {
        /// <summary>Memory never loses what it acknowledged, so a stream keeps its first epoch.</summary>
        public StreamEpoch Epoch { get; } = StreamEpoch.Start();

        public List<StoredEvent> Events { get; } = [];

        public Dictionary<string, long> IdsByKey { get; } = new(StringComparer.Ordinal);
    }
}
