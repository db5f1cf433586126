using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Bridge.Events;
using Bridge.Sse;
using Microsoft.Extensions.Logging;

namespace Bridge.Streaming;

/// <summary>
/// One bounded Server-Sent Events response: resolve the cursor, replay what the client missed, then live events,
/// then a clean end at the response's deadline. Created by <see cref="StreamHub.SubscribeAsync"/>.
/// </summary>
/// <remarks>
/// The seam between replay and live is closed by the tail: replay runs up to the tail's position, and the subscriber
/// is registered only at a position the tail can continue from, under the tail's lock. So no event is sent twice
/// and none is skipped, whatever is published meanwhile.
/// </remarks>
public sealed partial class StreamSession
{
    private readonly StreamHub _hub;
    private readonly StreamName _stream;
    private readonly StreamCursor _cursor;
    private readonly PipeWriter _output;
    private readonly ILogger _logger;
    private readonly IDisposable? _lease;
    private readonly long _deadlineTimestamp;
    private long _lastWrittenId;
    private int _eventsWritten;

    internal StreamSession(StreamHub hub, StreamName stream, StreamCursor cursor, PipeWriter output, DateTimeOffset? notAfter, IDisposable? lease, ILogger logger)
    {
        _hub = hub;
        _stream = stream;
        _cursor = cursor;
        _output = output;
        _lease = lease;
        _logger = logger;

        // Each response lasts between 80 % and 100 % of the maximum, so clients spread their reconnections; and never
        // past its token's expiry, so the same mechanism ends both.
        var lifetime = TimeSpan.FromSeconds(hub.Options.MaxDurationSeconds * (0.8 + (0.2 * Random.Shared.NextDouble())));
        if (notAfter is { } expiry)
        {
            lifetime = TimeSpan.FromTicks(Math.Clamp((expiry - hub.Time.GetUtcNow()).Ticks, 0, lifetime.Ticks));
        }

        _deadlineTimestamp = hub.Time.GetTimestamp() + (long)(lifetime.TotalSeconds * hub.Time.TimestampFrequency);
    }

    /// <summary>Writes the response until it ends. Never throws for a client that goes away.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        var end = "completed";
        try
        {
            StreamTail tail;
            try
            {
                tail = await _hub.GetTailAsync(_stream, aborted).ConfigureAwait(false);
            }
            catch (EventLogUnavailableException exception)
            {
                end = "storage-unavailable";
                await WriteStorageUnavailableAsync(exception).ConfigureAwait(false);
                return;
            }

            var start = await WritePreambleAsync(tail, aborted).ConfigureAwait(false);
            var subscriber = new Subscriber(_deadlineTimestamp, _hub.Options.SubscriberBufferBytes, _output.CancelPendingFlush);
            tail = await CatchUpAndAttachAsync(tail, start, subscriber, aborted).ConfigureAwait(false) ?? tail;

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

                    // Events queued before the end are still written, so a response ends on a whole event.
                    await WriteQueuedAsync(subscriber).ConfigureAwait(false);
                }
                finally
                {
                    tail.Detach(subscriber);
                }
            }

            end = subscriber.EndReason?.ToString() ?? "lifetime";
        }
        catch (OperationCanceledException)
        {
            end = "disconnected";
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
            LogSessionEnded(_stream.Value, end, _eventsWritten, _lastWrittenId);
        }
    }

    private bool IsPastDeadline => _hub.Time.GetTimestamp() >= _deadlineTimestamp;

    /// <summary>
    /// Writes the <c>retry:</c> hint, plus either the starting id (no cursor) or a <c>bridge.gap</c> event (a cursor that
    /// cannot be honoured). Returns the id after which events are sent.
    /// </summary>
    private async Task<long> WritePreambleAsync(StreamTail tail, CancellationToken aborted)
    {
        var position = tail.Position;
        if (_cursor.Position is { } requested && requested > position)
        {
            // The tail may lag storage by one poll interval; look again before calling the cursor a gap.
            await tail.RefreshAsync(aborted).ConfigureAwait(false);
            position = tail.Position;
        }

        var retry = _hub.Options.RetryMilliseconds;
        if (_cursor.IsNone)
        {
            SseFormat.WritePreamble(_output, retry, position);
        }
        else if (_cursor.Position is { } cursor && cursor <= position)
        {
            SseFormat.WritePreamble(_output, retry, lastEventId: null);
            position = cursor;
        }
        else
        {
            SseFormat.WritePreamble(_output, retry, lastEventId: null);
            WriteGap(_cursor.Malformed is null ? GapReason.CursorAheadOfStream : GapReason.MalformedCursor, position);
        }

        await FlushAsync().ConfigureAwait(false);
        return position;
    }

    /// <summary>
    /// The <c>bridge.gap</c> event: its id moves the client's cursor to where the stream resumes, and its data says what
    /// was asked for and why it could not be honoured.
    /// </summary>
    private void WriteGap(GapReason reason, long resumeAfter)
    {
        var data = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(data))
        {
            json.WriteStartObject();
            json.WriteString("reason", reason == GapReason.MalformedCursor ? "malformed-cursor" : "cursor-ahead-of-stream");
            json.WriteString("requested", _cursor.Malformed ?? _cursor.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("resumeAfter", resumeAfter);
            json.WriteString(
                "message",
                reason == GapReason.MalformedCursor
                    ? "The requested event id is not a non-negative integer. Events resume after the last event of the stream; reload any state built from earlier events."
                    : "The requested event id is beyond the end of the stream. Events resume after the last event of the stream; reload any state built from earlier events.");
            json.WriteEndObject();
        }

        SseFormat.WriteEvent(_output, resumeAfter, EventType.Gap, data.WrittenSpan);
        _lastWrittenId = resumeAfter;
    }

    private enum GapReason
    {
        MalformedCursor,
        CursorAheadOfStream,
    }

    /// <summary>
    /// Replays from storage until the tail can take over, then registers the subscriber. Returns the tail it attached
    /// to when that changed, and null when the response ended during replay.
    /// </summary>
    private async Task<StreamTail?> CatchUpAndAttachAsync(StreamTail tail, long position, Subscriber subscriber, CancellationToken aborted)
    {
        var held = new List<Outbound>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted, _hub.Stopping);
        while (true)
        {
            held.Clear();
            switch (tail.TryAttach(subscriber, position, held))
            {
                case AttachOutcome.Attached:
                    foreach (var outbound in held)
                    {
                        _output.Write(outbound.Bytes.Span);
                        _lastWrittenId = outbound.LastId;
                    }

                    await FlushAsync().ConfigureAwait(false);
                    return tail;

                case AttachOutcome.Stopped:
                    tail = await _hub.GetTailAsync(_stream, stop.Token).ConfigureAwait(false);
                    break;

                case AttachOutcome.Behind when position > tail.Position:
                    // Only when storage went backwards under a new tail (the stream was deleted or restored).
                    await tail.RefreshAsync(stop.Token).ConfigureAwait(false);
                    if (position > tail.Position)
                    {
                        position = tail.Position;
                        WriteGap(GapReason.CursorAheadOfStream, position);
                    }

                    break;

                case AttachOutcome.Behind:
                    await foreach (var page in _hub.Log.ReadAsync(_stream, position, tail.Position, stop.Token).ConfigureAwait(false))
                    {
                        foreach (var stored in page)
                        {
                            SseFormat.WriteEvent(_output, stored.Id, stored.Type, stored.Data.Span);
                        }

                        _eventsWritten += page.Count;
                        _lastWrittenId = position = page[^1].Id;
                        if (!await FlushAsync().ConfigureAwait(false) || IsPastDeadline)
                        {
                            subscriber.End(SubscriberEnd.Lifetime);
                            return null;
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>Writes everything queued for the subscriber and flushes it. False when the client is gone or too slow.</summary>
    private async ValueTask<bool> WriteQueuedAsync(Subscriber subscriber)
    {
        var bytes = 0;
        while (subscriber.TryRead(out var outbound))
        {
            _output.Write(outbound.Bytes.Span);
            bytes += outbound.Bytes.Length;
            if (outbound.LastId > 0)
            {
                _eventsWritten += (int)(outbound.LastId - _lastWrittenId);
                _lastWrittenId = outbound.LastId;
            }
        }

        subscriber.Consumed(bytes);
        return bytes == 0 || await FlushAsync().ConfigureAwait(false);
    }

    private async Task WriteStorageUnavailableAsync(EventLogUnavailableException exception)
    {
        // A 200 that ends at once: an EventSource reconnects after the retry delay, whereas a 5xx would stop it for good.
        LogStorageUnavailable(exception, _stream.Value);
        SseFormat.WritePreamble(_output, _hub.Options.RetryMilliseconds, lastEventId: null);
        SseFormat.WriteComment(_output, "storage is unavailable; reconnect after the retry delay");
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends what was written. False when the client is gone or the flush was cancelled by an overflow.</summary>
    private async ValueTask<bool> FlushAsync()
    {
        var result = await _output.FlushAsync().ConfigureAwait(false);
        return !result.IsCanceled && !result.IsCompleted;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "SSE response on stream {Stream} ended ({End}) after {Events} events, last id {LastId}")]
    private partial void LogSessionEnded(string stream, string end, int events, long lastId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SSE response on stream {Stream} could not start: storage is unavailable; the client will retry")]
    private partial void LogStorageUnavailable(Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay of stream {Stream} failed: storage is unavailable; the client resumes on reconnect")]
    private partial void LogReplayFailed(Exception exception, string stream);
}
