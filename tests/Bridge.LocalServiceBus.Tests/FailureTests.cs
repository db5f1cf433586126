using Azure.Messaging.ServiceBus;
using Bridge.DevKit;

namespace Bridge.LocalServiceBus.Tests;

public sealed class FailureTests
{
    [Fact]
    public async Task An_unknown_topic_or_subscription_is_MessagingEntityNotFound()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();

        var topic = await Assert.ThrowsAsync<ServiceBusException>(() => client.CreateSender("no-such-topic").SendMessageAsync(new ServiceBusMessage("x")));
        var subscription = await Assert.ThrowsAsync<ServiceBusException>(() => client.CreateReceiver("limits", "no-such-subscription").ReceiveMessageAsync(TimeSpan.FromSeconds(1)));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, topic.Reason);
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, subscription.Reason);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_as_unauthorized_access()
    {
        var connectionString = LocalServiceBusProcess.ConnectionStringFor(await ConformanceEndpoint.PortAsync(), key: "not-the-key");
        await using var client = new ServiceBusClient(connectionString, new ServiceBusClientOptions { RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0 } });

        var failure = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => client.CreateSender("limits").SendMessageAsync(new ServiceBusMessage("x")));

        Assert.Contains("401", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_over_256_KB_is_refused_as_Service_Bus_Standard_refuses_it()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        var sender = client.CreateSender("limits");

        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage(new byte[300 * 1024])));
        using var batch = await sender.CreateMessageBatchAsync();

        Assert.Equal(ServiceBusFailureReason.MessageSizeExceeded, failure.Reason);
        Assert.Equal(256 * 1024, batch.MaxSizeInBytes);
        Assert.False(batch.TryAddMessage(new ServiceBusMessage(new byte[257 * 1024])));
    }
}
