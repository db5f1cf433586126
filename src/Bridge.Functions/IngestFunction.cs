using Azure.Messaging.ServiceBus;
using Bridge.Ingestion;
using Bridge.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace Bridge.Functions;

/// <summary>
/// Service Bus ingest: each batch of messages from the topic subscription goes through
/// <see cref="IngestBatchProcessor"/>, and each message is settled for its own outcome (complete, dead-letter or
/// abandon). The topic and subscription names are the app settings <c>ServiceBusTopic</c> and
/// <c>ServiceBusSubscription</c>; the connection is the app setting <c>ServiceBusConnection</c> (a connection string),
/// or <c>ServiceBusConnection__fullyQualifiedNamespace</c> for a managed identity.
/// </summary>
/// <remarks>
/// A trigger's session mode is fixed when it is compiled, so there are two functions and an app runs one: <c>Ingest</c>
/// for a plain subscription, <c>IngestSessions</c> for a session-enabled one (a stream per session, kept in publish
/// order). The app settings <c>AzureWebJobs.Ingest.Disabled</c> and <c>AzureWebJobs.IngestSessions.Disabled</c> choose;
/// infra/ sets them from its <c>serviceBusSessions</c> parameter.
/// </remarks>
public sealed class IngestFunction(IngestBatchProcessor ingest)
{
    [Function("Ingest")]
    public Task RunAsync(
        [ServiceBusTrigger(FunctionsSettings.TopicFromSettings, FunctionsSettings.SubscriptionFromSettings, Connection = ServiceBusSettings.Connection, IsBatched = true, AutoCompleteMessages = false)]
        ServiceBusReceivedMessage[] messages,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        IngestAsync(messages, actions, cancellationToken);

    [Function("IngestSessions")]
    public Task RunSessionsAsync(
        [ServiceBusTrigger(FunctionsSettings.TopicFromSettings, FunctionsSettings.SubscriptionFromSettings, Connection = ServiceBusSettings.Connection, IsBatched = true, AutoCompleteMessages = false, IsSessionsEnabled = true)]
        ServiceBusReceivedMessage[] messages,
        ServiceBusMessageActions actions,
        CancellationToken cancellationToken) =>
        IngestAsync(messages, actions, cancellationToken);

    private async Task IngestAsync(ServiceBusReceivedMessage[] messages, ServiceBusMessageActions actions, CancellationToken cancellationToken)
    {
        var outcomes = await ingest.IngestAsync([.. messages.Select(ReceivedMessages.ToIncoming)], cancellationToken);
        await Task.WhenAll(messages.Select((message, index) => SettleAsync(actions, message, outcomes[index], cancellationToken)));
    }

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
