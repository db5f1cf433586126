using Azure.Messaging.ServiceBus;
using Bridge.Ingestion;

namespace Bridge.ServiceBus;

/// <summary>What ingestion reads from a received Service Bus message: the same for the trigger and the receivers.</summary>
public static class ReceivedMessages
{
    /// <summary>Type from <c>Subject</c>, data from the body, idempotency key from <c>MessageId</c>, stream from <c>stream</c> or <c>SessionId</c>.</summary>
    public static IncomingMessage ToIncoming(ServiceBusReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new(
            message.MessageId,
            message.SessionId,
            message.Subject,
            message.ApplicationProperties.TryGetValue(ServiceBusSettings.StreamProperty, out var stream) ? stream?.ToString() : null,
            message.Body.ToMemory(),
            message.ApplicationProperties.TryGetValue("Diagnostic-Id", out var traceParent) ? traceParent?.ToString() : null);
    }
}
