using System.IO.Pipelines;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Subscribers;

/// <summary>
/// Serves Server-Sent Events responses: each one is a <see cref="SubscriptionSession"/>, given the hub, the log, the
/// settings and the clock it needs. When the host stops, responses still replaying stop too; live ones are ended by
/// the hub.
/// </summary>
public sealed class SubscriptionService(
    StreamHub hub,
    IEventLog log,
    IOptions<SseOptions> options,
    TimeProvider time,
    ILogger<SubscriptionSession> logger,
    BridgeMetrics metrics) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// Writes one bounded Server-Sent Events response to <paramref name="output"/>: the <c>retry:</c> hint, a gap notice
    /// if the cursor cannot be honoured, the events after the cursor, then live events until the response's lifetime
    /// ends, <paramref name="notAfter"/> (its token's expiry) passes, or the client leaves. The caller sets the HTTP
    /// status and headers first. Never throws for a client that goes away.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="cursor">Where the client resumes.</param>
    /// <param name="output">The response body.</param>
    /// <param name="notAfter">When the response must end at the latest, whatever its lifetime; null for no such bound.</param>
    /// <param name="lease">Disposed when the response ends, such as a slot counted against a limit.</param>
    /// <param name="abortConnection">
    /// Cuts the connection off, discarding what the client has not read. Called for a client too slow to let its
    /// response end in time; it resumes from its last complete event.
    /// </param>
    /// <param name="aborted">Signalled when the client goes away.</param>
    public Task ServeAsync(
        StreamName stream,
        StreamCursor cursor,
        PipeWriter output,
        DateTimeOffset? notAfter,
        IDisposable? lease,
        Action abortConnection,
        CancellationToken aborted) =>
        Session([new SessionLane(0, stream, cursor)], multiplexed: null, output, notAfter, lease, abortConnection).RunAsync(aborted, _stopping.Token);

    /// <summary>
    /// Writes one bounded Server-Sent Events response that carries several streams, as <see cref="ServeAsync(StreamName, StreamCursor, PipeWriter, DateTimeOffset?, IDisposable?, Action, CancellationToken)"/>
    /// does one. Each event's id is the cursor of every stream (<see cref="SubscriptionCursor"/>), and a
    /// <c>bridge.stream</c> event names the stream of the events that follow it.
    /// </summary>
    /// <param name="cursor">The streams, and where the client resumes in each.</param>
    /// <param name="output">The response body.</param>
    /// <param name="notAfter">When the response must end at the latest, whatever its lifetime; null for no such bound.</param>
    /// <param name="lease">Disposed when the response ends, such as a slot counted against a limit.</param>
    /// <param name="abortConnection">Cuts the connection off, discarding what the client has not read.</param>
    /// <param name="aborted">Signalled when the client goes away.</param>
    public Task ServeAsync(
        SubscriptionCursor cursor,
        PipeWriter output,
        DateTimeOffset? notAfter,
        IDisposable? lease,
        Action abortConnection,
        CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var lanes = cursor.Streams.Select((stream, index) => new SessionLane(index, stream, cursor.Positions[index])).ToArray();
        return Session(lanes, new MultiplexedFrames(output, cursor), output, notAfter, lease, abortConnection).RunAsync(aborted, _stopping.Token);
    }

    private SubscriptionSession Session(SessionLane[] lanes, MultiplexedFrames? multiplexed, PipeWriter output, DateTimeOffset? notAfter, IDisposable? lease, Action abortConnection) =>
        new(hub, log, options.Value, time, logger, metrics, lanes, multiplexed, output, notAfter, lease, abortConnection);

    /// <summary>Ends responses that are still replaying as soon as the host starts stopping.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => _stopping.CancelAsync();

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => _stopping.CancelAsync();

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => _stopping.Dispose();
}
