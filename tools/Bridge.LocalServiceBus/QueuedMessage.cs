using Microsoft.Azure.Amqp;

namespace Bridge.LocalServiceBus;

/// <summary>One copy of a message in a subscription or a dead-letter queue, with what the broker tracks for it.</summary>
internal sealed class QueuedMessage(StoredMessage content, long sequenceNumber, DateTimeOffset enqueuedTime, DateTimeOffset expiresAt)
{
    public StoredMessage Content { get; set; } = content;

    public long SequenceNumber { get; } = sequenceNumber;

    public DateTimeOffset EnqueuedTime { get; } = enqueuedTime;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    public string? SessionId => Content.SessionId;

    /// <summary>How many times a receiver has been given it, this delivery included: what the client reads as DeliveryCount.</summary>
    public int Deliveries { get; set; }

    public Guid LockToken { get; set; }

    public DateTimeOffset LockedUntil { get; set; }

    /// <summary>The receiver it is locked to, while it is locked.</summary>
    public Receiver? Holder { get; set; }

    /// <summary>For a dead-lettered message, the entity it came from.</summary>
    public string? DeadLetterSource { get; init; }

    public AmqpMessage ToDelivery()
    {
        var message = Content.CreateDelivery();

        // The wire carries prior failed attempts; the SDKs add one when they surface DeliveryCount.
        message.Header.DeliveryCount = (uint)(Deliveries - 1);
        var annotations = message.MessageAnnotations.Map;
        annotations[ServiceBusProtocol.SequenceNumber] = SequenceNumber;
        annotations[ServiceBusProtocol.EnqueuedTime] = EnqueuedTime.UtcDateTime;
        annotations[ServiceBusProtocol.LockedUntil] = LockedUntil.UtcDateTime;
        if (DeadLetterSource is not null)
        {
            annotations[ServiceBusProtocol.DeadLetterSource] = DeadLetterSource;
        }

        message.DeliveryTag = new ArraySegment<byte>(LockToken.ToByteArray());
        return message;
    }
}
