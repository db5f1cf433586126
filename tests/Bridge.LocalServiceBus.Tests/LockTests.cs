using Azure.Messaging.ServiceBus;

namespace Bridge.LocalServiceBus.Tests;

public sealed class LockTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_expired_lock_redelivers_the_message_with_the_delivery_count_raised_and_the_stale_lock_is_lost()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("expiring-locks").SendMessageAsync(new ServiceBusMessage("slow"));
        var receiver = client.CreateReceiver("expiring-locks", "all");
        var first = await receiver.ReceiveMessageAsync(Wait);

        // The lock lasts one second; the message comes back only once it has run out.
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal((first.SequenceNumber, 2), (second.SequenceNumber, second.DeliveryCount));
        Assert.True(second.EnqueuedTime == first.EnqueuedTime && second.LockedUntil > first.LockedUntil);
        var stale = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(first));
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, stale.Reason);
        var renewStale = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.RenewMessageLockAsync(first));
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, renewStale.Reason);
        await receiver.CompleteMessageAsync(second);
    }

    [Fact]
    public async Task Renewing_a_lock_extends_it_and_keeps_the_message_from_other_receivers()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("renewed-locks").SendMessageAsync(new ServiceBusMessage("held"));
        var holder = client.CreateReceiver("renewed-locks", "all");
        var message = await holder.ReceiveMessageAsync(Wait);
        var lockedUntil = message.LockedUntil;

        // Renew every half second for five seconds: past the four-second lock the message was first given.
        var other = client.CreateReceiver("renewed-locks", "all");
        for (var i = 0; i < 10; i++)
        {
            await holder.RenewMessageLockAsync(message);
            Assert.Null(await other.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
        }

        Assert.True(message.LockedUntil > lockedUntil);
        await holder.CompleteMessageAsync(message);
    }
}
