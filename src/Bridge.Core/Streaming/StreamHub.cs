using System.Collections.Concurrent;
using System.IO.Pipelines;
using Bridge.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Streaming;

/// <summary>
/// Serves Server-Sent Events subscriptions for this process: it owns one <see cref="StreamTail"/> per active stream
/// and runs a <see cref="StreamSession"/> per connection. When the host stops, every response ends cleanly so clients
/// reconnect elsewhere.
/// </summary>
public sealed class StreamHub : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<StreamName, StreamTail> _tails = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IEventLog _log;
    private readonly SseOptions _sse;
    private readonly TailOptions _tail;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<StreamSession> _sessionLogger;

    /// <summary>Creates the hub and starts listening for this process's commits.</summary>
    public StreamHub(
        IEventLog log,
        LocalCommitFeed commits,
        IOptions<SseOptions> sse,
        IOptions<TailOptions> tail,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        _log = log;
        _sse = sse.Value;
        _tail = tail.Value;
        _time = time;
        _loggers = loggers;
        _sessionLogger = loggers.CreateLogger<StreamSession>();
        commits.Committed += OnCommitted;
    }

    /// <summary>The number of streams this process currently follows.</summary>
    public int ActiveStreams => _tails.Count;

    /// <summary>The number of clients receiving live events from this process.</summary>
    public int Subscribers => _tails.Values.Sum(tail => tail.SubscriberCount);

    internal IEventLog Log => _log;

    internal SseOptions Options => _sse;

    internal TimeProvider Time => _time;

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Writes one bounded Server-Sent Events response to <paramref name="output"/>: the <c>retry:</c> hint, a gap notice
    /// if the cursor cannot be honoured, the events after the cursor, then live events until the response's lifetime
    /// ends, <paramref name="notAfter"/> (its token's expiry) passes, or the client leaves. The caller sets the HTTP
    /// status and headers first.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="cursor">Where the client resumes.</param>
    /// <param name="output">The response body.</param>
    /// <param name="notAfter">When the response must end at the latest, whatever its lifetime; null for no such bound.</param>
    /// <param name="lease">Disposed when the response ends, such as a slot counted against a limit.</param>
    /// <param name="aborted">Signalled when the client goes away.</param>
    public Task SubscribeAsync(StreamName stream, StreamCursor cursor, PipeWriter output, DateTimeOffset? notAfter, IDisposable? lease, CancellationToken aborted) =>
        new StreamSession(this, stream, cursor, output, notAfter, lease, _sessionLogger).RunAsync(aborted);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        foreach (var tail in _tails.Values)
        {
            tail.Stop(SubscriberEnd.Shutdown);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => _stopping.Dispose();

    /// <summary>The running tail for <paramref name="stream"/>, started if needed, once it knows the head.</summary>
    /// <exception cref="EventLogUnavailableException">Storage could not be read.</exception>
    internal async Task<StreamTail> GetTailAsync(StreamName stream, CancellationToken cancellationToken)
    {
        var tail = _tails.GetOrAdd(stream, CreateTail);
        tail.EnsureStarted();
        if (_stopping.IsCancellationRequested)
        {
            tail.Stop(SubscriberEnd.Shutdown);
        }

        await tail.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        return tail;
    }

    internal void Remove(StreamTail tail) => _tails.TryRemove(KeyValuePair.Create(tail.Stream, tail));

    private StreamTail CreateTail(StreamName stream) =>
        new(stream, this, _log, _tail, _sse, _time, _loggers.CreateLogger<StreamTail>());

    private void OnCommitted(StreamName stream, IReadOnlyList<StoredEvent> events)
    {
        if (_tails.TryGetValue(stream, out var tail))
        {
            tail.OnLocalCommit(events);
        }
    }
}
