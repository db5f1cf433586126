using System.Diagnostics;
using Bridge.Events;
using Bridge.Telemetry;
using Bridge.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Ingestion;

/// <summary>
/// Turns a batch of broker messages into events and decides how to settle each message. Every host's ingest (a
/// trigger, a receiver loop) is a thin adapter over this.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Stream: the application property <c>stream</c>, else the session id, else <see cref="IngestOptions.DefaultStream"/>.</item>
/// <item>Type: the subject (empty means "message"). Data: the body. Idempotency key: the message id, if it has one.</item>
/// </list>
/// Each stream's messages are appended with one batched append, in message order, so a batch costs a few storage
/// transactions. A message that can never be stored is dead-lettered; when storage fails, every message of that
/// stream is abandoned, and their redelivery stores each exactly once because events already stored are recognised by
/// their message id.
/// </remarks>
public sealed partial class IngestBatchProcessor(EventPublisher publisher, EventRules rules, IOptions<IngestOptions> options, ILogger<IngestBatchProcessor> logger)
{
    private readonly string? _defaultStream = string.IsNullOrEmpty(options.Value.DefaultStream) ? null : options.Value.DefaultStream;

    /// <summary>Ingests a batch and returns one outcome per message, in the same order.</summary>
    public async Task<IReadOnlyList<MessageOutcome>> IngestAsync(IReadOnlyList<IncomingMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var outcomes = new MessageOutcome[messages.Count];
        var byStream = new Dictionary<StreamName, List<(int Index, NewEvent Event)>>();
        for (var index = 0; index < messages.Count; index++)
        {
            if (TryMap(messages[index], out var stream, out var newEvent, out var rejected))
            {
                (byStream.TryGetValue(stream, out var events) ? events : byStream[stream] = []).Add((index, newEvent));
            }
            else
            {
                outcomes[index] = rejected;
                LogDeadLettered(messages[index].MessageId, rejected.Reason!, rejected.Description!);
            }
        }

        await Task.WhenAll(byStream.Select(pair => AppendAsync(pair.Key, pair.Value, messages, outcomes, cancellationToken))).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>
    /// A span for storing one stream's messages that continues their producers' traces: the producer's span is its
    /// parent when there is one message, and each producer's span is linked when there are several (OpenTelemetry's
    /// convention for batches).
    /// </summary>
    private static Activity? StartIngestActivity(StreamName stream, List<(int Index, NewEvent Event)> events, IReadOnlyList<IncomingMessage> messages)
    {
        var contexts = events
            .Select(e => ActivityContext.TryParse(messages[e.Index].DiagnosticId, null, out var context) ? context : (ActivityContext?)null)
            .Where(context => context is not null)
            .Select(context => context!.Value)
            .ToList();
        var activity = contexts.Count == 1 && events.Count == 1
            ? BridgeMetrics.Activities.StartActivity("bridge.ingest", ActivityKind.Consumer, contexts[0])
            : BridgeMetrics.Activities.StartActivity("bridge.ingest", ActivityKind.Consumer, parentContext: default, links: contexts.Select(context => new ActivityLink(context)));
        activity?.SetTag("bridge.stream", stream.Value);
        activity?.SetTag("messaging.batch.message_count", events.Count);
        return activity;
    }

    private async Task AppendAsync(StreamName stream, List<(int Index, NewEvent Event)> events, IReadOnlyList<IncomingMessage> messages, MessageOutcome[] outcomes, CancellationToken cancellationToken)
    {
        using var activity = StartIngestActivity(stream, events, messages);
        try
        {
            var results = await publisher.PublishAsync(stream, [.. events.Select(e => e.Event)], cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < events.Count; i++)
            {
                outcomes[events[i].Index] = new MessageOutcome(SettleAction.Complete, EventId: results[i].Id, IsDuplicate: results[i].IsDuplicate);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Transient or not, the broker redelivers an abandoned message and dead-letters it after its maximum
            // delivery count, so nothing is lost and nothing loops for ever.
            LogAbandoned(exception, stream.Value, events.Count);
            var abandoned = new MessageOutcome(SettleAction.Abandon, Description: exception.Message);
            foreach (var (index, _) in events)
            {
                outcomes[index] = abandoned;
            }
        }
    }

    private bool TryMap(IncomingMessage message, out StreamName stream, out NewEvent newEvent, out MessageOutcome rejected)
    {
        stream = default;
        newEvent = null!;
        rejected = null!;
        var name = FirstNonEmpty(message.StreamProperty, message.SessionId, _defaultStream);
        if (name is null)
        {
            rejected = DeadLetter(DeadLetterReasons.NoStream, "The message names no stream: set the application property 'stream' or a session id, or configure Ingest:DefaultStream.");
            return false;
        }

        if (!rules.TryParseStream(name, out stream, out var error))
        {
            rejected = DeadLetter(DeadLetterReasons.InvalidStreamName, error);
            return false;
        }

        // Service Bus has no way to tell an empty Subject from none; both mean the default type.
        if (!rules.TryParseType(string.IsNullOrEmpty(message.Subject) ? null : message.Subject, out var type, out error))
        {
            rejected = DeadLetter(DeadLetterReasons.InvalidEventType, $"The subject is not a valid event type: {error}");
            return false;
        }

        // Service Bus gives every message an id, so one without is not from it; it is stored all the same, without
        // the protection against redelivery that the id gives, rather than lost.
        IdempotencyKey? key = null;
        if (!string.IsNullOrEmpty(message.MessageId))
        {
            if (!IdempotencyKey.TryParse(message.MessageId, out var parsed, out error))
            {
                rejected = DeadLetter(DeadLetterReasons.InvalidMessageId, $"The message id cannot be an idempotency key: {error}");
                return false;
            }

            key = parsed;
        }

        if (!EventData.TryValidate(message.Body.Span, out var problem))
        {
            rejected = DeadLetter(problem.Kind == EventDataProblemKind.TooLarge ? DeadLetterReasons.TooLarge : DeadLetterReasons.DataNotUtf8, problem.Message);
            return false;
        }

        newEvent = new NewEvent(type, message.Body, key);
        return true;
    }

    private static MessageOutcome DeadLetter(string reason, string description) => new(SettleAction.DeadLetter, reason, description);

    private static string? FirstNonEmpty(params string?[] candidates) => candidates.FirstOrDefault(candidate => !string.IsNullOrEmpty(candidate));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} is dead-lettered ({Reason}): {Description}")]
    private partial void LogDeadLettered(string? messageId, string reason, string description);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Messages} message(s) for stream {Stream} failed; they are abandoned for redelivery")]
    private partial void LogAbandoned(Exception exception, string stream, int messages);
}
