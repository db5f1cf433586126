using System.Collections.Concurrent;
using Bridge.Events;
using Bridge.Telemetry;
using Bridge.Subscribers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Hub;

/// <summary>
/// This process's view of the streams that have subscribers: one <see cref="StreamTail"/> per active stream, which
/// receives the events this process publishes (<see cref="Deliver"/>) and polls the log for events other processes
/// commit, and fans them out to its subscribers.
/// </summary>
/// <remarks>
/// The hub owns its tails: it starts each tail's loop, runs one clock for all of them (heartbeats, response
/// deadlines, idle tails), removes tails that stopped, ends every response as soon as the host starts stopping
/// (<see cref="StoppingAsync"/>), and awaits every loop (<see cref="StopAsync"/>). A tail never calls back into the hub.
/// </remarks>
public sealed partial class StreamHub : IHostedLifecycleService, IAsyncDisposable
{
    /// <summary>How often the clock runs: heartbeats and deadlines are kept to within this much.</summary>
    private static readonly TimeSpan ClockInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<StreamName, StreamTail> _tails = new();
    private readonly ConcurrentDictionary<StreamTail, Task> _loops = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IEventLog _log;
    private readonly TailOptions _tailOptions;
    private readonly SseOptions _sseOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _tailLogger;
    private readonly ILogger<StreamHub> _logger;
    private readonly BridgeMetrics _metrics;
    private Task _clock = Task.CompletedTask;

    /// <summary>Creates the hub; <see cref="StartAsync"/> starts its clock.</summary>
    public StreamHub(IEventLog log, IOptions<TailOptions> tail, IOptions<SseOptions> sse, TimeProvider time, ILoggerFactory loggers, BridgeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(tail);
        ArgumentNullException.ThrowIfNull(sse);
        _log = log;
        _tailOptions = tail.Value;
        _sseOptions = sse.Value;
        _time = time;
        ArgumentNullException.ThrowIfNull(loggers);
        _tailLogger = loggers.CreateLogger<StreamTail>();
        _logger = loggers.CreateLogger<StreamHub>();
        _metrics = metrics;
    }

    /// <summary>The number of streams this process currently follows.</summary>
    public int ActiveStreams => _tails.Count;

    /// <summary>The number of clients receiving live events from this process.</summary>
    public int Subscribers => _tails.Values.Sum(tail => tail.SubscriberCount);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _clock = RunClockAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Ends every live response cleanly as soon as the host starts stopping, before the web server waits for open
    /// requests to finish: responses that ended are not waited for, and their clients reconnect to another instance.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // End the responses first: once the token is cancelled, the tails' loops end and take them off the list.
        foreach (var tail in _tails.Values)
        {
            tail.Stop(SubscriberEnd.Shutdown);
        }

        return _stopping.CancelAsync();
    }

    /// <summary>Ends every live response, if that has not happened yet, and waits for the tails to stop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await StoppingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.WhenAll([.. _loops.Values, _clock]).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogStoppedBeforeTails(_logger, _loops.Count);
        }
    }

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// Hands events this process has just committed to the stream's tail, if the stream has one here. Events need
    /// not arrive in commit order; the tail delivers them in id order.
    /// </summary>
    /// <param name="stream">The stream they were appended to.</param>
    /// <param name="epoch">The name of the epoch their ids belong to (<see cref="AppendResult.Epoch"/>).</param>
    /// <param name="committed">The events, in id order.</param>
    public void Deliver(StreamName stream, string epoch, IReadOnlyList<StoredEvent> committed)
    {
        if (_tails.TryGetValue(stream, out var tail))
        {
            tail.OnCommitted(epoch, committed);
        }
    }

    /// <summary>The running tail for <paramref name="stream"/>, started if needed, once it knows the head.</summary>
    /// <exception cref="EventLogUnavailableException">Storage could not be read.</exception>
    /// <exception cref="OperationCanceledException">The hub is stopping, or <paramref name="cancellationToken"/> fired.</exception>
    internal async Task<StreamTail> GetTailAsync(StreamName stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            _stopping.Token.ThrowIfCancellationRequested();
            var tail = _tails.GetOrAdd(stream, name => new StreamTail(name, _log, _tailOptions, _sseOptions, _time, _tailLogger, _metrics));
            if (tail.TryClaimStart())
            {
                _loops[tail] = RunTailAsync(tail);
            }

            if (tail.IsStopped)
            {
                // It stopped for idleness a moment ago; the clock has not removed it yet.
                _tails.TryRemove(KeyValuePair.Create(stream, tail));
                continue;
            }

            await tail.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            return tail;
        }
    }

    private async Task RunTailAsync(StreamTail tail)
    {
        try
        {
            await tail.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            // A tail whose loop ended for any reason serves nobody: a tail started while the hub was stopping must end
            // its responses too.
            tail.Stop(SubscriberEnd.Shutdown);
            _tails.TryRemove(KeyValuePair.Create(tail.Stream, tail));
            _loops.TryRemove(tail, out _);
        }
    }

    private async Task RunClockAsync(CancellationToken stopping)
    {
        using var clock = new PeriodicTimer(ClockInterval, _time);
        try
        {
            while (await clock.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (var (stream, tail) in _tails)
                {
                    if (!tail.Housekeep())
                    {
                        _tails.TryRemove(KeyValuePair.Create(stream, tail));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The host stopped waiting before {Tails} stream tail(s) had finished")]
    private static partial void LogStoppedBeforeTails(ILogger logger, int tails);
}
