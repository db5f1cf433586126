using System.Buffers;
using System.IO.Pipelines;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Sse;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;

namespace Bridge.Subscribers;

/// <summary>
/// One bounded Server-Sent Events response: resolve the cursor, replay what the client missed, then live events,
/// then a clean end at the response's deadline. Created by <see cref="SubscriptionService.ServeAsync"/>.
/// </summary>
/// <remarks>
/// The seam between replay and live is closed by the tail: replay runs up to the tail's position, and the subscriber
/// is registered only at a position the tail can continue from, under the tail's lock. So no event is sent twice
/// and none is skipped, whatever is published meanwhile.
/// </remarks>
public sealed partial class SubscriptionSession
{
    /// <summary>
    /// How long a response that reached its end may take to hand its last events to the client. A client that cannot
    /// take them in that time is cut off, so no response outlives its lifetime by more than this.
    /// </summary>
    internal static readonly TimeSpan EndGrace = TimeSpan.FromSeconds(5);

    private readonly StreamHub _hub;
    private readonly IEventLog _log;
    private readonly SseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BridgeMetrics _metrics;
    private readonly StreamName _stream;
    private readonly StreamCursor _cursor;
    private readonly PipeWriter _output;
    private readonly IDisposable? _lease;
    private readonly Action _abortConnection;
    private readonly long _deadlineTimestamp;
    private long _lastWrittenId;
    private string _epoch = string.Empty;
    private int _eventsWritten;

    internal SubscriptionSession(
        StreamHub hub,
        IEventLog log,
        SseOptions options,
        TimeProvider time,
        ILogger logger,
        BridgeMetrics metrics,
        StreamName stream,
        StreamCursor cursor,
        PipeWriter output,
        DateTimeOffset? notAfter,
        IDisposable? lease,
        Action abortConnection)
    {
        _hub = hub;
        _log = log;
        _options = options;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _stream = stream;
        _cursor = cursor;
        _output = output;
        _lease = lease;
        _abortConnection = abortConnection;

        // Each response lasts between 80 % and 100 % of the maximum, so clients spread their reconnections; and never
        // past its token's expiry, so the same mechanism ends both.
        var lifetime = TimeSpan.FromSeconds(options.MaxDurationSeconds * (0.8 + (0.2 * Random.Shared.NextDouble())));
        if (notAfter is { } expiry)
        {
            lifetime = TimeSpan.FromTicks(Math.Clamp((expiry - time.GetUtcNow()).Ticks, 0, lifetime.Ticks));
        }

        _deadlineTimestamp = time.GetTimestamp() + (long)(lifetime.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Writes the response until it ends. Never throws for a client that goes away.</summary>
    internal async Task RunAsync(CancellationToken aborted, CancellationToken stopping)
    {
        var end = "lifetime";
        _metrics.OpenSubscribers.Add(1);
        try
        {
            var subscriber = new Subscriber(_deadlineTimestamp, _options.SubscriberBufferBytes, _output.CancelPendingFlush);
            StreamTail? tail;

            // Shutdown ends live responses through the hub, and the clock ends them at their deadline; until then both
            // must also end replay, whose writes wait on the client. These sources are disposed before the live phase,
            // where they would cost memory on every open connection.
            using (var deadline = new CancellationTokenSource(RemainingLifetime, _time))
            using (var starting = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, deadline.Token))
            {
                tail = await StartAsync(subscriber, starting.Token).ConfigureAwait(false);
            }

            if (tail is null)
            {
                end = subscriber.EndReason?.ToString() ?? "storage-unavailable";
                return;
            }

            // Live: written here rather than in a method of its own, because every async frame that stays suspended
            // for the life of a connection costs memory on every connection.
            using (aborted.UnsafeRegister(static state => ((Subscriber)state!).End(SubscriberEnd.Disconnected), subscriber))
            {
                try
                {
                    while (subscriber.EndReason is null && await subscriber.WaitToReadAsync().ConfigureAwait(false))
                    {
                        if (!await WriteQueuedAsync(subscriber).ConfigureAwait(false))
                        {
                            subscriber.End(SubscriberEnd.Overflow);
                        }
                    }
                }
                finally
                {
                    tail.Detach(subscriber);
                }
            }

            end = subscriber.EndReason?.ToString() ?? end;
            if (subscriber.EndReason == SubscriberEnd.Overflow)
            {
                _metrics.SubscribersDropped.Add(1, new KeyValuePair<string, object?>("reason", "slow"));
                // The client is a whole buffer behind, and what it has yet to read would keep the response open long
                // past its lifetime. It resumes from its last complete event.
                _abortConnection();
            }
            else
            {
                await FinishAsync(subscriber, shuttingDown: subscriber.EndReason == SubscriberEnd.Shutdown).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            end = aborted.IsCancellationRequested ? "disconnected" : stopping.IsCancellationRequested ? "shutdown" : "lifetime";
            if (stopping.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                // Stopping mid-replay: every event written is whole, so the response can end cleanly like a live one.
                await FinishAsync(subscriber: null, shuttingDown: true).ConfigureAwait(false);
            }
            else if (!aborted.IsCancellationRequested)
            {
                // A replay write was still waiting on the client: cut it off rather than wait for it to read.
                _abortConnection();
            }
        }
        catch (EventLogUnavailableException exception)
        {
            end = "storage-unavailable";
            LogReplayFailed(exception, _stream.Value);
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException && aborted.IsCancellationRequested)
        {
            end = "disconnected";
        }
        finally
        {
            _lease?.Dispose();
            _metrics.OpenSubscribers.Add(-1);
            _metrics.EventsDelivered.Add(_eventsWritten);
            LogSessionEnded(_stream.Value, end, _eventsWritten, _lastWrittenId);
        }
    }

    private TimeSpan RemainingLifetime =>
        TimeSpan.FromSeconds(Math.Max(0, _deadlineTimestamp - _time.GetTimestamp()) / (double)_time.TimestampFrequency);

    /// <summary>
    /// Writes the events queued before the end, so that the response ends on a whole event, and cuts the connection
    /// off if the client does not take them within <see cref="EndGrace"/>. When the process is stopping, the response
    /// ends with a short <c>retry:</c> (a random part of <see cref="SseOptions.ShutdownRetryMilliseconds"/>), so the
    /// client reconnects to another instance at once, and its peers do not all arrive at the same moment.
    /// </summary>
    private async Task FinishAsync(Subscriber? subscriber, bool shuttingDown)
    {
        using var grace = new CancellationTokenSource(EndGrace, _time);
        try
        {
            if (subscriber is not null)
            {
                WriteQueued(subscriber);
            }

            if (shuttingDown)
            {
                SseFormat.WriteRetry(_output, Random.Shared.Next(0, _options.ShutdownRetryMilliseconds + 1));
            }

            // The end itself cancels the flush pending at that moment, or else the next one: flush again after that.
            if ((await _output.FlushAsync(grace.Token).ConfigureAwait(false)).IsCanceled)
            {
                await _output.FlushAsync(grace.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested)
        {
            _abortConnection();
        }
    }

    /// <summary>
    /// Finds the stream's tail, writes the preamble, replays what the client missed and registers it for live events.
    /// Returns the tail it is registered with; null when the response ended first (storage unavailable, or its
    /// lifetime ran out during replay).
    /// </summary>
    private async Task<StreamTail?> StartAsync(Subscriber subscriber, CancellationToken cancelled)
    {
        StreamTail tail;
        try
        {
            tail = await _hub.GetTailAsync(_stream, cancelled).ConfigureAwait(false);
        }
        catch (EventLogUnavailableException exception)
        {
            await WriteStorageUnavailableAsync(exception).ConfigureAwait(false);
            return null;
        }

        var start = await WritePreambleAsync(tail, cancelled).ConfigureAwait(false);
        return await CatchUpAndAttachAsync(tail, start, subscriber, cancelled).ConfigureAwait(false);
    }

    private bool IsPastDeadline => _time.GetTimestamp() >= _deadlineTimestamp;

    /// <summary>
    /// Writes the <c>retry:</c> hint, plus either the starting id (no cursor) or a <c>bridge.gap</c> event (a cursor that
    /// cannot be honoured). Returns the id after which events are sent, in the epoch of <see cref="_epoch"/>.
    /// </summary>
    private async Task<long> WritePreambleAsync(StreamTail tail, CancellationToken cancelled)
    {
        if (_cursor.Position is { } requested && (requested > tail.Position || (_cursor.Epoch is { } epoch && epoch != tail.Epoch.Id)))
        {
            // The tail may lag storage by one poll interval; look again before calling the cursor a gap.
            await tail.RefreshAsync(cancelled).ConfigureAwait(false);
        }

        var position = tail.Position;
        _epoch = tail.Epoch.Id;
        var retry = _options.RetryMilliseconds;
        if (_cursor.IsNone)
        {
            SseFormat.WritePreamble(_output, retry, position, _epoch);
        }
        else if (_cursor.Position is { } cursor)
        {
            SseFormat.WritePreamble(_output, retry, lastEventId: null, _epoch);
            var resumeAfter = tail.Epoch.ResumePoint(_cursor.Epoch, cursor, out var replaced);
            if (replaced)
            {
                WriteGap(GapReason.HistoryReplaced, resumeAfter);
            }
            else if (resumeAfter > position)
            {
                WriteGap(GapReason.CursorAheadOfStream, position);
            }

            position = Math.Min(resumeAfter, position);
        }
        else
        {
            SseFormat.WritePreamble(_output, retry, lastEventId: null, _epoch);
            WriteGap(GapReason.MalformedCursor, position);
        }

        // For clients that read comments (EventSource ignores them): when this response is planned to end.
        SseFormat.WriteComment(_output, $"closes-in {(int)Math.Ceiling(RemainingLifetime.TotalSeconds)}");
        await FlushAsync(cancelled).ConfigureAwait(false);
        return position;
    }

    private void WriteGap(GapReason reason, long resumeAfter)
    {
        GapNotice.Write(_output, reason, GapNotice.Echo(_cursor), resumeAfter, _epoch);
        _lastWrittenId = resumeAfter;
    }

    /// <summary>
    /// Replays from storage until the tail can take over, then registers the subscriber. Returns the tail it attached
    /// to, and null when the response ended during replay.
    /// </summary>
    private async Task<StreamTail?> CatchUpAndAttachAsync(StreamTail tail, long position, Subscriber subscriber, CancellationToken cancelled)
    {
        var held = new List<Outbound>();
        while (true)
        {
            held.Clear();
            switch (tail.TryAttach(subscriber, _epoch, position, held))
            {
                case AttachOutcome.Attached:
                    foreach (var outbound in held)
                    {
                        _output.Write(outbound.Bytes.Span);
                        _lastWrittenId = outbound.LastId;
                    }

                    // Everything before this comment was replayed, from storage or the tail's memory; what follows is live.
                    SseFormat.WriteComment(_output, "live");

                    // Attached: from here the subscriber's own end (its deadline, an overflow) releases this flush.
                    await FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    return tail;

                case AttachOutcome.Stopped:
                    tail = await _hub.GetTailAsync(_stream, cancelled).ConfigureAwait(false);
                    break;

                case AttachOutcome.EpochChanged:
                    // The stored history was replaced while this response was being written.
                    var epoch = tail.Epoch;
                    var resumeAfter = epoch.ResumePoint(_epoch, position, out var replaced);
                    _epoch = epoch.Id;
                    if (replaced)
                    {
                        position = resumeAfter;
                        WriteGap(GapReason.HistoryReplaced, position);
                    }

                    break;

                case AttachOutcome.Behind when position > tail.Position:
                    // Only when storage lost events this response already sent, and no writer has started a new epoch yet.
                    await tail.RefreshAsync(cancelled).ConfigureAwait(false);
                    if (position > tail.Position && tail.Epoch.Id == _epoch)
                    {
                        position = tail.Position;
                        WriteGap(GapReason.HistoryReplaced, position);
                    }

                    break;

                case AttachOutcome.Behind:
                    using (var replay = BridgeMetrics.Activities.StartActivity("bridge.replay"))
                    {
                        replay?.SetTag("bridge.stream", _stream.Value);
                        replay?.SetTag("bridge.after", position);
                        if (await ReplayAsync(tail, position, subscriber, cancelled).ConfigureAwait(false) is not { } replayedTo)
                        {
                            return null;
                        }

                        position = replayedTo;
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Writes the stored events after <paramref name="position"/> up to the tail's position, and returns the id of the
    /// last one; null when the response reached its end meanwhile.
    /// </summary>
    private async Task<long?> ReplayAsync(StreamTail tail, long position, Subscriber subscriber, CancellationToken cancelled)
    {
        var through = tail.Position;
        await foreach (var page in _log.ReadAsync(_stream, position, through, cancelled).ConfigureAwait(false))
        {
            foreach (var stored in page)
            {
                // The log skips what retention removed: say so where the ids jump.
                if (stored.Id > position + 1)
                {
                    WriteGap(GapReason.EventsPruned, stored.Id - 1);
                }

                SseFormat.WriteEvent(_output, stored.Id, _epoch, stored.Type, stored.Data.Span);
                position = stored.Id;
            }

            _metrics.ReplayedRows.Add(page.Count);
            _eventsWritten += page.Count;
            _lastWrittenId = position;
            if (!await FlushAsync(cancelled).ConfigureAwait(false) || IsPastDeadline)
            {
                subscriber.End(SubscriberEnd.Lifetime);
                return null;
            }
        }

        if (position < through)
        {
            // Everything up to the tail's position was removed.
            WriteGap(GapReason.EventsPruned, through);
            position = through;
        }

        return position;
    }

    /// <summary>Writes everything queued for the subscriber and flushes it. False when the client is gone or too slow.</summary>
    private async ValueTask<bool> WriteQueuedAsync(Subscriber subscriber) =>
        WriteQueued(subscriber) == 0 || await FlushAsync().ConfigureAwait(false);

    /// <summary>Writes everything queued for the subscriber without flushing it; returns how many bytes.</summary>
    private int WriteQueued(Subscriber subscriber)
    {
        var bytes = 0;
        while (subscriber.TryRead(out var outbound))
        {
            _output.Write(outbound.Bytes.Span);
            bytes += outbound.Bytes.Length;
            if (outbound.LastId != Outbound.NoEvent)
            {
                _eventsWritten += (int)Math.Max(0, outbound.LastId - _lastWrittenId);
                _lastWrittenId = outbound.LastId;
            }
        }

        subscriber.Consumed(bytes);
        return bytes;
    }

    private async Task WriteStorageUnavailableAsync(EventLogUnavailableException exception)
    {
        // A 200 that ends at once: an EventSource reconnects after the retry delay, whereas a 5xx would stop it for good.
        LogStorageUnavailable(exception, _stream.Value);
        SseFormat.WritePreamble(_output, _options.RetryMilliseconds, lastEventId: null, epoch: string.Empty);
        SseFormat.WriteComment(_output, "storage is unavailable; reconnect after the retry delay");
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends what was written. False when the client is gone or the flush was cancelled by the end.</summary>
    private async ValueTask<bool> FlushAsync(CancellationToken cancellationToken = default)
    {
        var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return !result.IsCanceled && !result.IsCompleted;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "SSE response on stream {Stream} ended ({End}) after {Events} events, last id {LastId}")]
    private partial void LogSessionEnded(string stream, string end, int events, long lastId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SSE response on stream {Stream} could not start: storage is unavailable; the client will retry")]
    private partial void LogStorageUnavailable(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of stream {Stream} failed: storage is unavailable; the client resumes on reconnect")]
    private partial void LogReplayFailed(Exception exception, string stream);
}
