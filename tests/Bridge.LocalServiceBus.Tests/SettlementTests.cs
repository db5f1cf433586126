using Azure.Messaging.ServiceBus;

namespace Bridge.LocalServiceBus.Tests;

public sealed class SettlementTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Complete_removes_the_message_and_a_second_complete_fails_with_MessageLockLost()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("settlement").SendMessageAsync(new ServiceBusMessage("done"));
        var receiver = client.CreateReceiver("settlement", "all");
        var message = await receiver.ReceiveMessageAsync(Wait);

        await receiver.CompleteMessageAsync(message);
        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(message));

        Assert.Equal(ServiceBusFailureReason.MessageLockLost, failure.Reason);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Abandon_redelivers_with_the_delivery_count_raised_and_the_properties_modified()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("settlement").SendMessageAsync(new ServiceBusMessage("again") { ApplicationProperties = { ["step"] = 1 } });
        var receiver = client.CreateReceiver("settlement", "all");
        var first = await receiver.ReceiveMessageAsync(Wait);

        await receiver.AbandonMessageAsync(first, new Dictionary<string, object> { ["step"] = 2 });
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal((first.SequenceNumber, 2, 2), (second.SequenceNumber, second.DeliveryCount, (int)second.ApplicationProperties["step"]));
        Assert.NotEqual(first.LockToken, second.LockToken);
        await receiver.CompleteMessageAsync(second);
    }

    [Fact]
    public async Task Dead_lettering_moves_the_message_to_the_receivable_dead_letter_queue_with_reason_and_description()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("dead-letters").SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p-1" });
        var receiver = client.CreateReceiver("dead-letters", "all");
        var message = await receiver.ReceiveMessageAsync(Wait);

        await receiver.DeadLetterMessageAsync(message, "InvalidStream", "The stream name has a space.");

        var deadLetters = client.CreateReceiver("dead-letters", "all", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var dead = await deadLetters.ReceiveMessageAsync(Wait);
        Assert.Equal(("p-1", "InvalidStream", "The stream name has a space.", "dead-letters/Subscriptions/all"), (dead.MessageId, dead.DeadLetterReason, dead.DeadLetterErrorDescription, dead.DeadLetterSource));
        await deadLetters.CompleteMessageAsync(dead);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task A_message_abandoned_up_to_the_max_delivery_count_is_dead_lettered_as_Service_Bus_does()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("poison").SendMessageAsync(new ServiceBusMessage("never works"));
        var receiver = client.CreateReceiver("poison", "all");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var message = await receiver.ReceiveMessageAsync(Wait);
            Assert.Equal(attempt, message.DeliveryCount);
            await receiver.AbandonMessageAsync(message);
        }

        var dead = await client.CreateReceiver("poison", "all", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter }).ReceiveMessageAsync(Wait);
        Assert.Equal(("never works", "MaxDeliveryCountExceeded", "Message could not be consumed after 2 delivery attempts."), (dead.Body.ToString(), dead.DeadLetterReason, dead.DeadLetterErrorDescription));
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }
}
