using Azure.Messaging.ServiceBus;
using Bridge.Ingestion;
using Microsoft.Azure.Functions.Worker;

namespace Bridge.Functions;

/// <summary>
/// Service Bus ingest: each batch of messages from the topic subscription goes through
/// <see cref="IngestBatchProcessor"/>, and each message is settled for its own outcome (complete, dead-letter or
/// abandon). The topic and subscription names are the app settings <c>ServiceBusTopic</c> and
/// <c>ServiceBusSubscription</c>; the connection is the app setting <c>ServiceBusConnection</c> (a connection string),
/// or <c>ServiceBusConnection__fullyQualifiedNamespace</c> for a managed identity.
/// </summary>
public sealed class IngestFunction(IngestBatchProcessor ingest)
{
    private const string StreamProperty = "stream";

    [Function("Ingest")]
    public async Task RunAsync(
        [ServiceBusTrigger(FunctionsSettings.TopicFromSettings, FunctionsSettings.SubscriptionFromSettings, Connection = FunctionsSettings.ServiceBusConnection, IsBatched = true, AutoCompleteMessages = false)]
        ServiceBusReceivedMessage[] messages,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken)
    {
        var outcomes = await ingest.IngestAsync([.. messages.Select(ToIncoming)], cancellationToken);
        await Task.WhenAll(messages.Select((message, index) => SettleAsync(actions, message, outcomes[index], cancellationToken)));
    }

    private static IncomingMessage ToIncoming(ServiceBusReceivedMessage message) => new(
        message.MessageId,
        message.SessionId,
        message.Subject,
        message.ApplicationProperties.TryGetValue(StreamProperty, out var stream) ? stream?.ToString() : null,
        message.Body.ToMemory());

    private static Task SettleAsync(ServiceBusMessageActions actions, ServiceBusReceivedMessage message, MessageOutcome outcome, CancellationToken cancellationToken) =>
        outcome.Action switch
        {
            SettleAction.Complete => actions.CompleteMessageAsync(message, cancellationToken),
            SettleAction.DeadLetter => actions.DeadLetterMessageAsync(
                message,
                deadLetterReason: outcome.Reason,
                deadLetterErrorDescription: outcome.Description,
                cancellationToken: cancellationToken),
            _ => actions.AbandonMessageAsync(message, cancellationToken: cancellationToken),
        };
}
