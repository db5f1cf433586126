using System.Diagnostics;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Telemetry;

namespace Bridge.Publishing;

/// <summary>
/// Publishes events: appends them to the log, then hands what was committed to the hub, which delivers it to this
/// process's subscribers at once. Data flows one way, as in Mercure, whose transport dispatches after it persists:
/// the log knows nothing of the hub, and subscribers of other processes learn of the events by polling the log.
/// </summary>
public sealed class EventPublisher(IEventLog log, StreamHub hub, TimeProvider time, BridgeMetrics metrics)
{
    /// <summary>Appends <paramref name="events"/> to <paramref name="stream"/>; see <see cref="IEventLog.AppendAsync"/>.</summary>
    /// <exception cref="EventLogUnavailableException">Storage failed; retrying with the same keys stores each event once.</exception>
    public async Task<IReadOnlyList<AppendResult>> PublishAsync(StreamName stream, IReadOnlyList<NewEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        using var activity = BridgeMetrics.Activities.StartActivity("bridge.publish");
        activity?.SetTag("bridge.stream", stream.Value);
        activity?.SetTag("bridge.events", events.Count);
        var started = time.GetTimestamp();
        IReadOnlyList<AppendResult> results;
        try
        {
            results = await log.AppendAsync(stream, events, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }

        metrics.PublishDuration.Record(time.GetElapsedTime(started).TotalSeconds);
        var committed = new List<StoredEvent>(events.Count);
        var stored = 0;
        var epoch = string.Empty;
        var storedAt = time.GetUtcNow();
        for (var i = 0; i < events.Count; i++)
        {
            if (results[i].IsDuplicate)
            {
                continue;
            }

            // A large call committed in several transactions may span a change of epoch: each epoch's events go alone.
            if (committed.Count > 0 && results[i].Epoch != epoch)
            {
                hub.Deliver(stream, epoch, committed);
                committed = [];
            }

            epoch = results[i].Epoch;
            stored++;
            committed.Add(new StoredEvent(results[i].Id, events[i].Type, events[i].Data, storedAt, events[i].IdempotencyKey?.Value));
        }

        if (committed.Count > 0)
        {
            hub.Deliver(stream, epoch, committed);
        }

        metrics.EventsAppended.Add(stored);
        activity?.SetTag("bridge.events.stored", stored);
        return results;
    }
}
