using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// A topic: takes messages from producers' links, single or batched, drops duplicates of a <c>MessageId</c> inside the
/// detection window, numbers each message and gives every subscription its own copy.
/// </summary>
internal sealed class Topic(TopicSettings settings, IReadOnlyList<MessageQueue> subscriptions, TimeProvider clock)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _recentMessageIds = new(StringComparer.Ordinal);
    private readonly Queue<(string MessageId, DateTimeOffset Seen)> _detectionWindow = new();
    private long _lastSequenceNumber;

    public TopicSettings Settings { get; } = settings;

    public IReadOnlyList<MessageQueue> Subscriptions { get; } = subscriptions;

    public void Attach(ReceivingAmqpLink link) =>
        link.RegisterMessageListener(transfer => link.DisposeMessage(transfer, Accept(transfer), settled: true, batchable: false));

    private Outcome Accept(AmqpMessage transfer)
    {
        IReadOnlyList<StoredMessage> messages;
        try
        {
            messages = StoredMessage.Unpack(transfer);
        }
        catch (Exception exception) when (exception is AmqpException or InvalidCastException or InvalidOperationException)
        {
            return ServiceBusProtocol.Rejection(AmqpErrorCode.DecodeError, $"The message could not be decoded: {exception.Message}");
        }

        if (transfer.SerializedMessageSize > ServiceBusProtocol.MaxMessageSize || messages.Any(m => m.Size > ServiceBusProtocol.MaxMessageSize))
        {
            return ServiceBusProtocol.Rejection(AmqpErrorCode.MessageSizeExceeded, $"The received message (size: {transfer.SerializedMessageSize} bytes) exceeds the limit ({ServiceBusProtocol.MaxMessageSize} bytes) currently allowed on the link.");
        }

        Publish(messages);
        return AmqpConstants.AcceptedOutcome;
    }

    /// <summary>Numbers and fans out under one lock, so every subscription sees the topic's order.</summary>
    private void Publish(IReadOnlyList<StoredMessage> messages)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            ForgetMessageIdsSeenBefore(now - Settings.DuplicateDetectionHistoryTimeWindow);
            foreach (var message in messages)
            {
                if (IsDuplicate(message, now))
                {
                    continue;
                }

                var sequenceNumber = ++_lastSequenceNumber;
                foreach (var subscription in Subscriptions)
                {
                    var timeToLive = new[] { message.TimeToLive ?? TimeSpan.MaxValue, Settings.DefaultMessageTimeToLive, subscription.Settings.DefaultMessageTimeToLive }.Min();
                    var expiresAt = timeToLive >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + timeToLive;
                    subscription.Enqueue(new QueuedMessage(message, sequenceNumber, now, expiresAt));
                }
            }
        }
    }

    private bool IsDuplicate(StoredMessage message, DateTimeOffset now)
    {
        if (!Settings.RequiresDuplicateDetection || message.MessageId is not { } id)
        {
            return false;
        }

        if (_recentMessageIds.ContainsKey(id))
        {
            return true;
        }

        _recentMessageIds.Add(id, now);
        _detectionWindow.Enqueue((id, now));
        return false;
    }

    private void ForgetMessageIdsSeenBefore(DateTimeOffset cutoff)
    {
        while (_detectionWindow.TryPeek(out var oldest) && oldest.Seen < cutoff)
        {
            _detectionWindow.Dequeue();
            _recentMessageIds.Remove(oldest.MessageId);
        }
    }
}
