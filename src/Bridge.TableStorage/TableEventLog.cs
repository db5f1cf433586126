using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Bridge.Events;
using Bridge.TableStorage.Retention;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.TableStorage;

/// <summary>
/// The event log on Azure Table Storage (or Azurite). See <see cref="EventRows"/> for the layout and
/// <see cref="StreamAppender"/> for how appends stay gap-free and idempotent across processes.
/// </summary>
public sealed partial class TableEventLog : IEventLog, IAsyncDisposable
{
    private readonly TableClient _table;
    private readonly TableEventLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TableEventLog> _logger;
    private readonly BridgeMetrics _metrics;
    private readonly ConcurrentDictionary<StreamName, StreamAppender> _appenders = new();
    private volatile ConcurrentDictionary<StreamName, bool>? _usedSinceLastPrune; // only while retention runs
    private readonly StreamPruner _pruner;
    private readonly ITimer _retireTimer;
    private readonly TimeSpan _operationTimeout;
    private readonly Lock _tableGate = new();
    private Task? _tableCreated;
    private volatile bool _closed;

    /// <summary>Creates the event log on the account of <paramref name="account"/>. The table is created on first use.</summary>
    public TableEventLog(
        TableServiceClient account,
        IOptions<TableEventLogOptions> options,
        TimeProvider time,
        ILogger<TableEventLog> logger,
        BridgeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _table = account.GetTableClient(_options.EventsTable);
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _operationTimeout = TimeSpan.FromSeconds(_options.OperationTimeoutSeconds);
        _pruner = new StreamPruner(_table, _options.IdempotencyWindowEvents, time, metrics);
        var sweep = TimeSpan.FromMinutes(1);
        _retireTimer = time.CreateTimer(_ => RetireIdleAppenders(), null, sweep, sweep);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AppendResult>> AppendAsync(
        StreamName stream,
        IReadOnlyList<NewEvent> events,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return [];
        }

        try
        {
            return await AppendOnceAsync(stream, events, cancellationToken).ConfigureAwait(false);
        }
        catch (EventLogUnavailableException exception) when (IsTableMissing(exception))
        {
            // The table was deleted (or storage lost everything) since it was created: create it again. The failed
            // transaction stored nothing, so the whole append is tried once more.
            ForgetTable();
            return await AppendOnceAsync(stream, events, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<AppendResult>> AppendOnceAsync(StreamName stream, IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(stream, cancellationToken).ConfigureAwait(false);
        NoteUsed(stream);
        var append = new PendingAppend(events, cancellationToken);
        while (_closed || !_appenders.GetOrAdd(stream, CreateAppender).TryEnqueue(append))
        {
            if (_closed)
            {
                throw new EventLogUnavailableException($"The event log is shutting down, so the append to stream '{stream}' was not stored. Retry it on another instance.");
            }

            // That appender was retired for idleness between the lookup and the enqueue; the next lookup makes a new one.
            _appenders.TryRemove(KeyValuePair.Create(stream, _appenders[stream]));
        }

        try
        {
            return await append.Completion.Task.WaitAsync(_operationTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            throw new EventLogUnavailableException(
                $"The append to stream '{stream}' did not finish within {_options.OperationTimeoutSeconds} s: Table storage is slow " +
                "or unreachable. It may still be stored: retry it with the same idempotency keys, which are recognised.", exception);
        }
    }

    /// <inheritdoc />
    public async Task<StreamHead> GetHeadAsync(StreamName stream, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(stream, cancellationToken).ConfigureAwait(false);
        NoteUsed(stream);
        using var deadline = new CancellationTokenSource(_operationTimeout, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            _metrics.StorageTransactions.Add(1, StorageKind.ReadHead);
            var head = await _table.GetEntityIfExistsAsync<HeadEntity>(stream.Value, EventRows.HeadRowKey, EventRows.HeadProjection, bounded.Token)
                .ConfigureAwait(false);
            return head.HasValue ? head.Value!.ToHead() : StreamHead.Empty;
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            throw Unavailable(stream, "read the head of", exception);
        }
    }

    /// <inheritdoc />
    /// <remarks>The next page is requested while the caller handles the current one.</remarks>
    public async IAsyncEnumerable<IReadOnlyList<StoredEvent>> ReadAsync(
        StreamName stream,
        long afterId,
        long throughId,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterId);
        if (throughId <= afterId)
        {
            yield break;
        }

        await EnsureTableAsync(stream, cancellationToken).ConfigureAwait(false);

        // Each page gets the operation timeout while it is fetched; the time the caller spends on a page is its own.
        using var deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var pages = _table.QueryAsync<EventEntity>(
                EventRows.RangeFilter(stream, afterId, throughId), AzureTableLimits.MaxPageSize, select: null, bounded.Token)
            .AsPages()
            .GetAsyncEnumerator(bounded.Token);
        await using var _ = pages.ConfigureAwait(false);

        var expectedId = afterId + 1;
        var next = MoveNextAsync(pages, stream, deadline, cancellationToken);
        while (await next.ConfigureAwait(false))
        {
            var rows = pages.Current.Values;
            next = MoveNextAsync(pages, stream, deadline, cancellationToken);
            if (rows.Count == 0)
            {
                continue;
            }

            var events = new StoredEvent[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                events[i] = EventRows.Decode(rows[i]);
                if (events[i].Id != expectedId && !await WerePrunedAsync(stream, expectedId, events[i].Id - 1, cancellationToken).ConfigureAwait(false))
                {
                    throw MissingEvent(stream, expectedId);
                }

                expectedId = events[i].Id + 1;
            }

            yield return events;
        }

        if (expectedId <= throughId && !await WerePrunedAsync(stream, expectedId, throughId, cancellationToken).ConfigureAwait(false))
        {
            throw MissingEvent(stream, expectedId);
        }
    }

    /// <summary>
    /// Prunes <paramref name="stream"/> by <paramref name="rule"/> (<see cref="StreamPruner"/>); returns how many events
    /// were deleted.
    /// </summary>
    internal async Task<int> PruneAsync(StreamName stream, RetentionRule rule, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(stream, cancellationToken).ConfigureAwait(false);
        try
        {
            return await _pruner.PruneAsync(stream, rule, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            throw Unavailable(stream, "prune", exception);
        }
    }

    /// <summary>
    /// Starts noting which streams are appended to or read, for <see cref="TakeStreamsUsed"/>. Until then (when no
    /// retention limit is set) appends and polls skip that bookkeeping.
    /// </summary>
    internal void TrackStreamsUsed() => _usedSinceLastPrune ??= new();

    /// <summary>The streams appended to or read since the last call, which are the ones retention may need to prune.</summary>
    internal List<StreamName> TakeStreamsUsed()
    {
        if (_usedSinceLastPrune is not { } tracked)
        {
            return [];
        }

        var used = tracked.Keys.ToList();
        foreach (var stream in used)
        {
            tracked.TryRemove(stream, out _);
        }

        return used;
    }

    private void NoteUsed(StreamName stream)
    {
        // Checked first, since the stream is nearly always noted already and a lookup takes no lock.
        if (_usedSinceLastPrune is { } tracked && !tracked.ContainsKey(stream))
        {
            tracked.TryAdd(stream, true);
        }
    }

    /// <summary>
    /// Refuses new appends and waits until every append already queued has been committed or has failed, so that
    /// none is dropped when the process stops.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _retireTimer.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_appenders.Values.Select(appender => appender.CloseAsync())).ConfigureAwait(false);
    }

    private async Task<bool> MoveNextAsync(IAsyncEnumerator<Page<EventEntity>> pages, StreamName stream, CancellationTokenSource deadline, CancellationToken cancellationToken)
    {
        try
        {
            deadline.CancelAfter(_operationTimeout);
            _metrics.StorageTransactions.Add(1, StorageKind.Query);
            var more = await pages.MoveNextAsync().ConfigureAwait(false);
            deadline.CancelAfter(Timeout.InfiniteTimeSpan);
            return more;
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            throw Unavailable(stream, "read events of", exception);
        }
    }

    /// <summary>
    /// True when the missing ids <paramref name="fromId"/>…<paramref name="throughId"/> were removed by retention: the
    /// stream's pruned row covers them. Pruners claim ids before deleting them, so a row deleted by a pruner is always
    /// covered by the time it is found missing.
    /// </summary>
    private async Task<bool> WerePrunedAsync(StreamName stream, long fromId, long throughId, CancellationToken cancellationToken)
    {
        if (throughId < fromId)
        {
            return false;
        }

        using var deadline = new CancellationTokenSource(_operationTimeout, _time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            _metrics.StorageTransactions.Add(1, StorageKind.Prune);
            var marker = await _table.GetEntityIfExistsAsync<TableEntity>(stream.Value, EventRows.PrunedRowKey, [EventRows.PrunedThroughProperty], bounded.Token)
                .ConfigureAwait(false);
            return marker.HasValue && marker.Value!.GetInt64(EventRows.PrunedThroughProperty) >= throughId;
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            throw Unavailable(stream, "read events of", exception);
        }
    }

    private StreamAppender CreateAppender(StreamName stream) =>
        new(stream, _table, _options.IdempotencyWindowEvents, _time, _logger, _metrics);

    private void RetireIdleAppenders()
    {
        var idle = TimeSpan.FromMinutes(_options.WriterIdleMinutes);
        foreach (var (stream, appender) in _appenders)
        {
            if (appender.TryRetire(idle))
            {
                _appenders.TryRemove(KeyValuePair.Create(stream, appender));
            }
        }
    }

    private async Task EnsureTableAsync(StreamName stream, CancellationToken cancellationToken)
    {
        Task created;
        lock (_tableGate)
        {
            created = _tableCreated ??= CreateTableAsync();
        }

        try
        {
            await created.WaitAsync(_operationTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (StorageFailure.IsStorageFailure(exception, cancellationToken))
        {
            lock (_tableGate)
            {
                // Let the next call try again rather than remembering the failure.
                if (_tableCreated == created)
                {
                    _tableCreated = null;
                }
            }

            throw Unavailable(stream, "create the events table for", exception);
        }
    }

    private async Task CreateTableAsync()
    {
        try
        {
            _metrics.StorageTransactions.Add(1, StorageKind.CreateTable);
            await _table.CreateIfNotExistsAsync().ConfigureAwait(false);
            LogTableReady(_table.Name);
        }
        catch (RequestFailedException exception) when (exception.Status == 403)
        {
            // A SAS scoped to the table, or without create permission, may still read and write an existing table.
            // If the table does not exist, the first read or write says so.
            LogCannotCreateTable(_table.Name, exception.ErrorCode);
        }
    }

    private EventLogUnavailableException Unavailable(StreamName stream, string action, Exception exception)
    {
        if (IsTableMissing(exception))
        {
            // The next call creates the table again rather than failing for ever.
            ForgetTable();
        }

        return StorageFailure.Wrap(exception, $"Could not {action} stream '{stream}'");
    }

    /// <summary>Makes the next call create the table again.</summary>
    private void ForgetTable()
    {
        lock (_tableGate)
        {
            _tableCreated = null;
        }
    }

    /// <summary>True when storage said the table does not exist: it was deleted, or storage lost everything.</summary>
    private static bool IsTableMissing(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is RequestFailedException { ErrorCode: "TableNotFound" })
            {
                return true;
            }
        }

        return false;
    }

    private static InvalidOperationException MissingEvent(StreamName stream, long id) =>
        new($"Stream '{stream}' has no row for event {id}, although its head says it was committed. " +
            "Its rows were changed outside Bridge.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Events table {Table} is ready")]
    private partial void LogTableReady(string table);

    [LoggerMessage(Level = LogLevel.Information, Message = "The credentials may not create tables ({ErrorCode}); using table {Table} as it is")]
    private partial void LogCannotCreateTable(string table, string? errorCode);
}
