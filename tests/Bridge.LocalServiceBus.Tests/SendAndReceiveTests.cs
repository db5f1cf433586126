using Azure.Messaging.ServiceBus;

namespace Bridge.LocalServiceBus.Tests;

public sealed class SendAndReceiveTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Every_subscription_of_a_topic_receives_its_own_copy_with_the_message_as_sent()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("fan-out").SendMessageAsync(new ServiceBusMessage("{\"n\":1}")
        {
            MessageId = "order-1",
            Subject = "order.created",
            ContentType = "application/json",
            CorrelationId = "trace-7",
            ApplicationProperties = { ["tenant"] = "contoso", ["attempt"] = 3 },
        });

        foreach (var subscription in new[] { "first", "second" })
        {
            var message = await client.CreateReceiver("fan-out", subscription).ReceiveMessageAsync(Wait);
            Assert.NotNull(message);
            Assert.Equal(("order-1", "order.created", "application/json", "trace-7"), (message.MessageId, message.Subject, message.ContentType, message.CorrelationId));
            Assert.Equal("{\"n\":1}", message.Body.ToString());
            Assert.Equal("contoso", message.ApplicationProperties["tenant"]);
            Assert.Equal(3, message.ApplicationProperties["attempt"]);
            Assert.Equal(1, message.DeliveryCount);
            Assert.NotEqual(default, message.LockToken);
            Assert.True(message.LockedUntil > message.EnqueuedTime);
        }
    }

    [Fact]
    public async Task Single_and_batch_sends_arrive_in_order_with_gap_free_sequence_numbers()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        var sender = client.CreateSender("batches");
        await sender.SendMessageAsync(new ServiceBusMessage("0"));
        using (var batch = await sender.CreateMessageBatchAsync())
        {
            for (var i = 1; i <= 5; i++)
            {
                Assert.True(batch.TryAddMessage(new ServiceBusMessage(i.ToString())));
            }

            await sender.SendMessagesAsync(batch);
        }

        await sender.SendMessagesAsync([new ServiceBusMessage("6"), new ServiceBusMessage("7")]);

        var received = await ReceiveAsync(client.CreateReceiver("batches", "all"), 8);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i.ToString()), received.Select(m => m.Body.ToString()));
        var sequenceNumbers = received.Select(m => m.SequenceNumber).ToList();
        Assert.Equal(Enumerable.Range((int)sequenceNumbers[0], 8).Select(n => (long)n), sequenceNumbers);

        // Sent without ids, they carry ids Service Bus gave them: GUIDs without dashes, one each.
        Assert.All(received, message => Assert.Matches("^[0-9a-f]{32}$", message.MessageId));
        Assert.Equal(8, received.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task A_MessageId_sent_twice_within_the_detection_window_is_kept_once()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        var sender = client.CreateSender("duplicates");
        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "same" });
        await sender.SendMessagesAsync([new ServiceBusMessage("second") { MessageId = "same" }, new ServiceBusMessage("other") { MessageId = "other" }]);

        var receiver = client.CreateReceiver("duplicates", "all");
        var received = await ReceiveAsync(receiver, 2);
        Assert.Equal(["first", "other"], received.Select(m => m.Body.ToString()));
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Receivers_competing_on_one_subscription_share_the_messages_without_overlap()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("competing").SendMessagesAsync(Enumerable.Range(0, 40).Select(i => new ServiceBusMessage(i.ToString())));

        var receivers = new[] { client.CreateReceiver("competing", "all"), client.CreateReceiver("competing", "all") };
        var takes = await Task.WhenAll(receivers.Select(async receiver =>
        {
            var taken = new List<string>();
            while (await receiver.ReceiveMessagesAsync(5, TimeSpan.FromSeconds(1)) is { Count: > 0 } batch)
            {
                foreach (var message in batch)
                {
                    await receiver.CompleteMessageAsync(message);
                    taken.Add(message.Body.ToString());
                }
            }

            return taken;
        }));

        Assert.Empty(takes[0].Intersect(takes[1]));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => i.ToString()).Order(), takes.SelectMany(t => t).Order());
    }

    [Fact]
    public async Task A_processor_with_concurrent_calls_and_prefetch_gets_each_message_once()
    {
        await using var client = await ConformanceEndpoint.ClientAsync(maxRetries: 3);
        const int Count = 200;
        await client.CreateSender("processor").SendMessagesAsync(Enumerable.Range(0, Count).Select(i => new ServiceBusMessage(i.ToString())));

        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var all = new TaskCompletionSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        await using var processor = client.CreateProcessor("processor", "all", new ServiceBusProcessorOptions { MaxConcurrentCalls = 8, PrefetchCount = 20 });
        processor.ProcessMessageAsync += args =>
        {
            seen.AddOrUpdate(args.Message.Body.ToString(), 1, (_, n) => n + 1);
            if (seen.Count == Count)
            {
                all.TrySetResult();
            }

            return Task.CompletedTask;
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Enqueue(args.Exception);
            return Task.CompletedTask;
        };
        await processor.StartProcessingAsync();
        await all.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await processor.StopProcessingAsync();

        Assert.Empty(errors);
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        Assert.Null(await client.CreateReceiver("processor", "all").ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Receive_and_delete_takes_messages_without_locking_them()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("receive-and-delete").SendMessagesAsync([new ServiceBusMessage("a"), new ServiceBusMessage("b")]);

        var receiver = client.CreateReceiver("receive-and-delete", "all", new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        var received = await ReceiveAsync(receiver, 2);

        Assert.Equal(["a", "b"], received.Select(m => m.Body.ToString()));
        Assert.Null(await client.CreateReceiver("receive-and-delete", "all").ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Peek_shows_messages_without_taking_them()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("peek").SendMessageAsync(new ServiceBusMessage("peeked"));

        var receiver = client.CreateReceiver("peek", "all");
        var peeked = await receiver.PeekMessageAsync();
        Assert.Equal("peeked", peeked.Body.ToString());

        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal(peeked.SequenceNumber, received.SequenceNumber);
        await receiver.CompleteMessageAsync(received);
    }

    internal static async Task<List<ServiceBusReceivedMessage>> ReceiveAsync(ServiceBusReceiver receiver, int count)
    {
        var received = new List<ServiceBusReceivedMessage>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (received.Count < count && DateTime.UtcNow < deadline)
        {
            foreach (var message in await receiver.ReceiveMessagesAsync(count - received.Count, TimeSpan.FromSeconds(2)))
            {
                received.Add(message);
                if (receiver.ReceiveMode == ServiceBusReceiveMode.PeekLock)
                {
                    await receiver.CompleteMessageAsync(message);
                }
            }
        }

        return received;
    }
}
