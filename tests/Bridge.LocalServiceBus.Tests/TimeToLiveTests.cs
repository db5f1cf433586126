using Azure.Messaging.ServiceBus;

namespace Bridge.LocalServiceBus.Tests;

public sealed class TimeToLiveTests
{
    [Fact]
    public async Task An_expired_message_is_dropped_or_dead_lettered_as_its_subscription_says()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("time-to-live").SendMessageAsync(new ServiceBusMessage("brief") { TimeToLive = TimeSpan.FromSeconds(1) });

        var dead = await client.CreateReceiver("time-to-live", "dead-lettered", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter })
            .ReceiveMessageAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(("brief", "TTLExpiredException"), (dead.Body.ToString(), dead.DeadLetterReason));
        Assert.Null(await client.CreateReceiver("time-to-live", "kept").ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Null(await client.CreateReceiver("time-to-live", "kept", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter }).ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }
}
