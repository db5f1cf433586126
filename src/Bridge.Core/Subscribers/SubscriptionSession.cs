using System.Buffers;
using System.IO.Pipelines;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Sse;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;

namespace Bridge.Subscribers;

/// <summary>
/// One bounded Server-Sent Events response on one stream or several: resolve the cursor, replay what the client
/// missed, then live events, then a clean end at the response's deadline. Created by
/// <see cref="SubscriptionService"/>.
/// </summary>
/// <remarks>
/// <para>
/// The seam between replay and live is closed by each stream's tail: replay runs up to the tail's position, and the
/// subscriber is registered only at a position the tail can continue from, under the tail's lock. So no event is sent
/// twice and none is skipped, whatever is published meanwhile.
/// </para>
/// <para>
/// A response on several streams catches them up one after another, in the order of their names, and writes the live
/// events of the streams already caught up between the replayed pages of the next. Each stream's events keep their
/// order; across streams there is none. Its event ids are the subscription's cursor (<see cref="MultiplexedFrames"/>).
/// </para>
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
    private readonly SessionLane[] _lanes;
    private readonly MultiplexedFrames? _multiplexed;
    private readonly PipeWriter _output;
    private readonly IDisposable? _lease;
    private readonly Action _abortConnection;
    private readonly long _deadlineTimestamp;
    private int _eventsWritten;

    internal SubscriptionSession(
        StreamHub hub,
        IEventLog log,
        SseOptions options,
        TimeProvider time,
        ILogger logger,
        BridgeMetrics metrics,
        SessionLane[] lanes,
        MultiplexedFrames? multiplexed,
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
        _lanes = lanes;
        _multiplexed = multiplexed;
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
        var subscriber = new Subscriber(_deadlineTimestamp, _options.SubscriberBufferBytes, _output.CancelPendingFlush);
        try
        {
            // Shutdown ends live responses through the hub, and the clock ends them at their deadline; until then both
            // must also end replay, whose writes wait on the client. These sources are disposed before the live phase,
            // where they would cost memory on every open connection.
            bool started;
            using (var deadline = new CancellationTokenSource(RemainingLifetime, _time))
            using (var starting = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping, deadline.Token))
            {
                started = await StartAsync(subscriber, starting.Token).ConfigureAwait(false);
            }

            if (!started)
            {
                end = subscriber.EndReason?.ToString() ?? "storage-unavailable";
                return;
            }

            // Live: written here rather than in a method of its own, because every async frame that stays suspended
            // for the life of a connection costs memory on every connection.
            using (aborted.UnsafeRegister(static state => ((Subscriber)state!).End(SubscriberEnd.Disconnected), subscriber))
            {
                while (subscriber.EndReason is null && await subscriber.WaitToReadAsync().ConfigureAwait(false))
                {
                    if (!await WriteQueuedAsync(subscriber).ConfigureAwait(false))
                    {
                        subscriber.End(SubscriberEnd.Overflow);
                    }
                }
            }

            Detach(subscriber);
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
            LogReplayFailed(exception, StreamNames);
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException && aborted.IsCancellationRequested)
        {
            end = "disconnected";
        }
        finally
        {
            // Also when the response ended while catching up, with some of its streams already attached.
            Detach(subscriber);
            _lease?.Dispose();
            _metrics.OpenSubscribers.Add(-1);
            _metrics.EventsDelivered.Add(_eventsWritten);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                LogSessionEnded(StreamNames, end, _eventsWritten, string.Join(',', _lanes.Select(lane => lane.LastWrittenId)));
            }
        }
    }

    private string StreamNames => string.Join(',', _lanes.Select(lane => lane.Stream.Value));

    private TimeSpan RemainingLifetime =>
        TimeSpan.FromSeconds(Math.Max(0, _deadlineTimestamp - _time.GetTimestamp()) / (double)_time.TimestampFrequency);

    private bool IsPastDeadline => _time.GetTimestamp() >= _deadlineTimestamp;

    /// <summary>Where a stream's blocks are written while the response starts; <see cref="Emit"/> sends them on.</summary>
    private IBufferWriter<byte> LaneOutput => _multiplexed?.Pending ?? _output;

    /// <summary>Sends on what was written to <see cref="LaneOutput"/> for <paramref name="lane"/>.</summary>
    private void Emit(SessionLane lane) => _multiplexed?.Commit(lane.Index);

    /// <summary>Takes the subscriber off every tail it was registered with; once, however often it is called.</summary>
    private void Detach(Subscriber subscriber)
    {
        foreach (var lane in _lanes)
        {
            lane.Tail?.Detach(subscriber);
            lane.Tail = null;
        }
    }

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
    /// Finds the streams' tails, writes the preamble, replays what the client missed and registers it for live events
    /// of every stream. False when the response ended first (storage unavailable, or its lifetime ran out during
    /// replay).
    /// </summary>
    private async Task<bool> StartAsync(Subscriber subscriber, CancellationToken cancelled)
    {
        try
        {
            var tails = await Task.WhenAll(_lanes.Select(lane => _hub.GetTailAsync(lane.Stream, cancelled))).ConfigureAwait(false);
            foreach (var lane in _lanes)
            {
                lane.Tail = tails[lane.Index];
            }
        }
        catch (EventLogUnavailableException exception)
        {
            await WriteStorageUnavailableAsync(exception).ConfigureAwait(false);
            return false;
        }

        var starts = await WritePreambleAsync(cancelled).ConfigureAwait(false);
        foreach (var lane in _lanes)
        {
            if (!await CatchUpAndAttachAsync(lane, starts[lane.Index], subscriber, cancelled).ConfigureAwait(false))
            {
                return false;
            }
        }

        // Everything before this comment was replayed, from storage or the tails' memory; what follows is live.
        _multiplexed?.ReleasePending();
        SseFormat.WriteComment(_output, "live");

        // Attached: from here the subscriber's own end (its deadline, an overflow) releases this flush.
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Writes the <c>retry:</c> hint, plus either the starting id (no cursor) or a <c>bridge.gap</c> event for each
    /// stream whose cursor cannot be honoured. Returns, for each stream, the id after which its events are sent, in
    /// the epoch of its lane.
    /// </summary>
    private async Task<long[]> WritePreambleAsync(CancellationToken cancelled)
    {
        // A tail may lag storage by one poll interval; look again before calling a cursor a gap.
        await Task.WhenAll(_lanes
            .Where(lane => lane.Cursor.Position is { } requested &&
                (requested > lane.Tail!.Position || (lane.Cursor.Epoch is { } epoch && epoch != lane.Tail.Epoch.Id)))
            .Select(lane => lane.Tail!.RefreshAsync(cancelled))).ConfigureAwait(false);

        var starts = new long[_lanes.Length];
        var gaps = new List<(SessionLane Lane, GapReason Reason, long ResumeAfter)>();
        foreach (var lane in _lanes)
        {
            var tail = lane.Tail!;
            var position = tail.Position;
            lane.Epoch = tail.Epoch.Id;
            if (lane.Cursor.Position is { } cursor)
            {
                var resumeAfter = tail.Epoch.ResumePoint(lane.Cursor.Epoch, cursor, out var replaced);
                if (replaced)
                {
                    gaps.Add((lane, GapReason.HistoryReplaced, resumeAfter));
                }
                else if (resumeAfter > position)
                {
                    gaps.Add((lane, GapReason.CursorAheadOfStream, position));
                }

                position = Math.Min(resumeAfter, position);
            }
            else if (lane.Cursor.Malformed is not null)
            {
                gaps.Add((lane, GapReason.MalformedCursor, position));
            }

            starts[lane.Index] = lane.LastWrittenId = position;
            _multiplexed?.Start(lane.Index, position, lane.Epoch);
        }

        var retry = _options.RetryMilliseconds;
        var noCursor = _lanes.All(lane => lane.Cursor.IsNone);
        if (_multiplexed is not null && noCursor)
        {
            _multiplexed.WritePreamble(retry);
        }
        else
        {
            SseFormat.WritePreamble(_output, retry, noCursor ? starts[0] : null, _lanes[0].Epoch);
        }

        foreach (var (lane, reason, resumeAfter) in gaps)
        {
            WriteGap(lane, reason, resumeAfter);
        }

        // For clients that read comments (EventSource ignores them): when this response is planned to end.
        SseFormat.WriteComment(_output, $"closes-in {(int)Math.Ceiling(RemainingLifetime.TotalSeconds)}");
        await FlushAsync(cancelled).ConfigureAwait(false);
        return starts;
    }

    private void WriteGap(SessionLane lane, GapReason reason, long resumeAfter)
    {
        GapNotice.Write(LaneOutput, lane.Stream, reason, GapNotice.Echo(lane.Cursor), resumeAfter, lane.Epoch);
        Emit(lane);
        lane.LastWrittenId = resumeAfter;
    }

    /// <summary>
    /// Replays one stream from storage until its tail can take over, then registers the subscriber with the tail.
    /// False when the response ended during replay.
    /// </summary>
    private async Task<bool> CatchUpAndAttachAsync(SessionLane lane, long position, Subscriber subscriber, CancellationToken cancelled)
    {
        var held = new List<Outbound>();
        var tail = lane.Tail!;
        while (true)
        {
            held.Clear();
            switch (tail.TryAttach(subscriber, lane.Index, lane.Epoch, position, held))
            {
                case AttachOutcome.Attached:
                    foreach (var outbound in held)
                    {
                        WriteBlocks(lane, outbound.Bytes.Span);
                        lane.LastWrittenId = outbound.LastId;
                    }

                    return true;

                case AttachOutcome.Stopped:
                    tail = lane.Tail = await _hub.GetTailAsync(lane.Stream, cancelled).ConfigureAwait(false);
                    break;

                case AttachOutcome.EpochChanged:
                    // The stored history was replaced while this response was being written.
                    var epoch = tail.Epoch;
                    var resumeAfter = epoch.ResumePoint(lane.Epoch, position, out var replaced);
                    lane.Epoch = epoch.Id;
                    if (replaced)
                    {
                        position = resumeAfter;
                        WriteGap(lane, GapReason.HistoryReplaced, position);
                    }

                    break;

                case AttachOutcome.Behind when position > tail.Position:
                    // Only when storage lost events this response already sent, and no writer has started a new epoch yet.
                    await tail.RefreshAsync(cancelled).ConfigureAwait(false);
                    if (position > tail.Position && tail.Epoch.Id == lane.Epoch)
                    {
                        position = tail.Position;
                        WriteGap(lane, GapReason.HistoryReplaced, position);
                    }

                    break;

                case AttachOutcome.Behind:
                    using (var replay = BridgeMetrics.Activities.StartActivity("bridge.replay"))
                    {
                        replay?.SetTag("bridge.stream", lane.Stream.Value);
                        replay?.SetTag("bridge.after", position);
                        if (await ReplayAsync(lane, tail, position, subscriber, cancelled).ConfigureAwait(false) is not { } replayedTo)
                        {
                            return false;
                        }

                        position = replayedTo;
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Writes the stored events of one stream after <paramref name="position"/> up to the tail's position, and returns
    /// the id of the last one; null when the response reached its end meanwhile. Between pages go the live events of
    /// streams already caught up, so that they do not pile up while this one replays.
    /// </summary>
    private async Task<long?> ReplayAsync(SessionLane lane, StreamTail tail, long position, Subscriber subscriber, CancellationToken cancelled)
    {
        var through = tail.Position;
        await foreach (var page in _log.ReadAsync(lane.Stream, position, through, cancelled).ConfigureAwait(false))
        {
            foreach (var stored in page)
            {
                // The log skips what retention removed: say so where the ids jump.
                if (stored.Id > position + 1)
                {
                    WriteGap(lane, GapReason.EventsPruned, stored.Id - 1);
                }

                SseFormat.WriteEvent(LaneOutput, stored.Id, lane.Epoch, stored.Type, stored.Data.Span);
                position = stored.Id;
            }

            Emit(lane);
            _metrics.ReplayedRows.Add(page.Count);
            _eventsWritten += page.Count;
            lane.LastWrittenId = position;
            WriteQueued(subscriber);
            if (!await FlushAsync(cancelled).ConfigureAwait(false) || IsPastDeadline)
            {
                subscriber.End(SubscriberEnd.Lifetime);
                return null;
            }
        }

        if (position < through)
        {
            // Everything up to the tail's position was removed.
            WriteGap(lane, GapReason.EventsPruned, through);
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
            var lane = _lanes[outbound.Lane];
            WriteBlocks(lane, outbound.Bytes.Span);
            bytes += outbound.Bytes.Length;
            if (outbound.LastId != Outbound.NoEvent)
            {
                _eventsWritten += (int)Math.Max(0, outbound.LastId - lane.LastWrittenId);
                lane.LastWrittenId = outbound.LastId;
            }
        }

        subscriber.Consumed(bytes);
        return bytes;
    }

    /// <summary>Writes blocks a stream's tail encoded: as they are on a one-stream response.</summary>
    private void WriteBlocks(SessionLane lane, ReadOnlySpan<byte> blocks)
    {
        if (_multiplexed is null)
        {
            _output.Write(blocks);
        }
        else
        {
            _multiplexed.Write(lane.Index, blocks);
        }
    }

    private async Task WriteStorageUnavailableAsync(EventLogUnavailableException exception)
    {
        // A 200 that ends at once: an EventSource reconnects after the retry delay, whereas a 5xx would stop it for good.
        LogStorageUnavailable(exception, StreamNames);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "SSE response on stream(s) {Stream} ended ({End}) after {Events} events, last id(s) {LastId}")]
    private partial void LogSessionEnded(string stream, string end, int events, string lastId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SSE response on stream(s) {Stream} could not start: storage is unavailable; the client will retry")]
    private partial void LogStorageUnavailable(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of stream(s) {Stream} failed: storage is unavailable; the client resumes on reconnect")]
    private partial void LogReplayFailed(Exception exception, string stream);
}
