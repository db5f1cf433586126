using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;

namespace Bridge.LocalServiceBus.Tests;

public sealed class SessionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_session_receiver_gets_its_session_in_publish_order_and_holds_it_alone()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        var sender = client.CreateSender("sessions");
        foreach (var (session, body) in new[] { ("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"), ("a", "a3") })
        {
            await sender.SendMessageAsync(new ServiceBusMessage(body) { SessionId = session });
        }

        var first = await client.AcceptNextSessionAsync("sessions", "ordered");
        Assert.Equal("a", first.SessionId);
        Assert.True(first.SessionLockedUntil > DateTimeOffset.UtcNow);
        var taken = await SendAndReceiveTests.ReceiveAsync(first, 3);
        Assert.Equal(["a1", "a2", "a3"], taken.Select(m => m.Body.ToString()));

        var held = await Assert.ThrowsAsync<ServiceBusException>(() => client.AcceptSessionAsync("sessions", "ordered", "a"));
        Assert.Equal(ServiceBusFailureReason.SessionCannotBeLocked, held.Reason);

        var second = await client.AcceptNextSessionAsync("sessions", "ordered");
        Assert.Equal("b", second.SessionId);
        Assert.Equal(["b1", "b2"], (await SendAndReceiveTests.ReceiveAsync(second, 2)).Select(m => m.Body.ToString()));
    }

    [Fact]
    public async Task Session_state_round_trips_and_a_session_lock_renews()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        var session = await client.AcceptSessionAsync("session-state", "ordered", "s-1");
        var lockedUntil = session.SessionLockedUntil;

        await session.SetSessionStateAsync(new BinaryData("checkpoint 7"));
        await Task.Delay(50);
        await session.RenewSessionLockAsync();

        Assert.Equal("checkpoint 7", (await session.GetSessionStateAsync()).ToString());
        Assert.True(session.SessionLockedUntil > lockedUntil);
    }

    [Fact]
    public async Task An_expired_session_lock_fails_settlement_with_SessionLockLost_and_frees_the_session()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("session-locks").SendMessageAsync(new ServiceBusMessage("slow") { SessionId = "s" });
        var session = await client.AcceptNextSessionAsync("session-locks", "ordered");
        var message = await session.ReceiveMessageAsync(Wait);

        // The session lock lasts one second; another receiver can take the session only once it has run out.
        var next = await client.AcceptNextSessionAsync("session-locks", "ordered");
        var lost = await Assert.ThrowsAsync<ServiceBusException>(() => session.CompleteMessageAsync(message));

        Assert.Equal(ServiceBusFailureReason.SessionLockLost, lost.Reason);
        var again = await next.ReceiveMessageAsync(Wait);
        Assert.Equal((message.SequenceNumber, 2), (again.SequenceNumber, again.DeliveryCount));
        await next.CompleteMessageAsync(again);
    }

    [Fact]
    public async Task A_message_without_a_session_id_is_dead_lettered_by_a_session_subscription()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();
        await client.CreateSender("session-less").SendMessageAsync(new ServiceBusMessage("orphan"));

        var dead = await client.CreateReceiver("session-less", "ordered", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter }).ReceiveMessageAsync(Wait);

        Assert.Equal(("orphan", "Session id is null."), (dead.Body.ToString(), dead.DeadLetterReason));
    }

    [Fact]
    public async Task Accepting_the_next_session_when_none_has_messages_times_out_with_ServiceTimeout()
    {
        await using var client = await ConformanceEndpoint.ClientAsync(tryTimeoutSeconds: 2);

        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => client.AcceptNextSessionAsync("empty-sessions", "ordered"));

        Assert.Equal(ServiceBusFailureReason.ServiceTimeout, failure.Reason);
    }

    [Fact]
    public async Task A_plain_receiver_on_a_session_subscription_is_refused()
    {
        await using var client = await ConformanceEndpoint.ClientAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.CreateReceiver("no-sessions", "ordered").ReceiveMessageAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_session_processor_keeps_each_session_in_order_across_concurrent_sessions()
    {
        await using var client = await ConformanceEndpoint.ClientAsync(maxRetries: 3);
        var sender = client.CreateSender("session-processor");
        var sessions = new[] { "x", "y", "z" };
        await sender.SendMessagesAsync(Enumerable.Range(0, 10).SelectMany(i => sessions.Select(s => new ServiceBusMessage($"{s}{i}") { SessionId = s })));

        var seen = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        var all = new TaskCompletionSource();
        var total = 0;
        await using var processor = client.CreateSessionProcessor("session-processor", "ordered", new ServiceBusSessionProcessorOptions
        {
            MaxConcurrentSessions = 2,
            SessionIdleTimeout = TimeSpan.FromMilliseconds(500),
        });
        processor.ProcessMessageAsync += args =>
        {
            seen.GetOrAdd(args.Message.SessionId, _ => new()).Enqueue(int.Parse(args.Message.Body.ToString()[1..]));
            if (Interlocked.Increment(ref total) == 30)
            {
                all.TrySetResult();
            }

            return Task.CompletedTask;
        };
        processor.ProcessErrorAsync += _ => Task.CompletedTask;
        await processor.StartProcessingAsync();
        await all.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await processor.StopProcessingAsync();

        Assert.Equal(sessions, seen.Keys.Order());
        Assert.All(seen.Values, order => Assert.Equal(Enumerable.Range(0, 10), order));
    }
}
