using Azure.Messaging.ServiceBus;
using Bridge.Ingestion;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging;

namespace Bridge.ServiceBus;

/// <summary>
/// One receive loop on the subscription: take a batch, store it through <see cref="IngestBatchProcessor"/> while
/// keeping its locks alive, settle each message for its own outcome, and pause after a failure. With sessions, the
/// loop first accepts the next free session (one stream) and releases it once it has nothing more.
/// </summary>
/// <remarks>
/// Stopping ends the wait for messages, never a batch in flight: that batch is stored and settled before the loop
/// returns, so shutdown loses nothing and leaves nothing to redeliver.
/// </remarks>
internal sealed partial class SubscriptionReceiver(
    ServiceBusClient client,
    IngestBatchProcessor ingest,
    ServiceBusIngestOptions options,
    IngestSource source,
    IngestStatus status,
    TimeProvider clock,
    BridgeMetrics metrics,
    ILogger<SubscriptionReceiver> logger)
{
    private static readonly MessageOutcome Abandoned = new(SettleAction.Abandon);

    private TimeSpan MaxWait => TimeSpan.FromMilliseconds(options.MaxWaitMilliseconds);

    public async Task RunAsync(CancellationToken stopping)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(options.RetryDelayMilliseconds), TimeSpan.FromSeconds(options.MaxRetryDelaySeconds), clock);
        if (!options.Sessions)
        {
            var receiver = client.CreateReceiver(source.Topic, source.Subscription, new ServiceBusReceiverOptions { PrefetchCount = options.PrefetchCount });
            await using (receiver.ConfigureAwait(false))
            {
                await ReceiveBatchesAsync(receiver, RenewMessageLocksAsync(receiver), untilIdle: false, backoff, stopping).ConfigureAwait(false);
                await ReleasePrefetchedAsync(receiver).ConfigureAwait(false);
            }

            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            if (await AcceptNextSessionAsync(backoff, stopping).ConfigureAwait(false) is not { } session)
            {
                continue;
            }

            await using (session.ConfigureAwait(false))
            {
                await ReceiveBatchesAsync(session, (_, cancellationToken) => session.RenewSessionLockAsync(cancellationToken), untilIdle: true, backoff, stopping).ConfigureAwait(false);
                await ReleasePrefetchedAsync(session).ConfigureAwait(false);
            }
        }
    }

    private async Task<ServiceBusSessionReceiver?> AcceptNextSessionAsync(Backoff backoff, CancellationToken stopping)
    {
        try
        {
            var session = await client.AcceptNextSessionAsync(source.Topic, source.Subscription, new ServiceBusSessionReceiverOptions { PrefetchCount = options.PrefetchCount }, stopping).ConfigureAwait(false);
            status.Received();
            return session;
        }
        catch (ServiceBusException exception) when (exception.Reason == ServiceBusFailureReason.ServiceTimeout)
        {
            // No session has messages: Service Bus answers an accept that waited long enough with a timeout.
            status.Received();
            return null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            ReceiveFailed(exception);
            await backoff.WaitAsync(stopping).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task ReceiveBatchesAsync(
        ServiceBusReceiver receiver,
        Func<IReadOnlyList<ServiceBusReceivedMessage>, CancellationToken, Task> renewLocks,
        bool untilIdle,
        Backoff backoff,
        CancellationToken stopping)
    {
        // One batch settles while the next is received and stored: settling takes a round trip per message, and
        // waiting for it would leave storage idle. Each stream's events are stored in order all the same.
        var settling = Task.CompletedTask;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                IReadOnlyList<ServiceBusReceivedMessage> batch;
                try
                {
                    batch = await receiver.ReceiveMessagesAsync(options.BatchSize, MaxWait, stopping).ConfigureAwait(false);
                    status.Received();
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (ServiceBusException exception) when (exception.Reason == ServiceBusFailureReason.SessionLockLost)
                {
                    return;
                }
                catch (Exception exception)
                {
                    ReceiveFailed(exception);
                    if (!await backoff.WaitAsync(stopping).ConfigureAwait(false) || untilIdle)
                    {
                        return;
                    }

                    continue;
                }

                if (batch.Count == 0)
                {
                    if (untilIdle)
                    {
                        return;
                    }

                    continue;
                }

                var outcomes = await StoreAsync(batch, renewLocks).ConfigureAwait(false);
                await settling.ConfigureAwait(false);
                settling = SettleAsync(receiver, batch, outcomes);
                if (outcomes.All(outcome => outcome.Action != SettleAction.Abandon))
                {
                    backoff.Reset();
                    continue;
                }

                // Abandoned messages are released before the pause, so they can come back to any receiver meanwhile.
                await settling.ConfigureAwait(false);
                if (!await backoff.WaitAsync(stopping).ConfigureAwait(false) || untilIdle)
                {
                    // With sessions, the session is released so its abandoned messages come back in order, to any server.
                    return;
                }
            }
        }
        finally
        {
            await settling.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Abandons what the receiver fetched ahead but will not store, so that those messages go to another receiver now
    /// rather than when their locks run out: a prefetched message is locked like any other.
    /// </summary>
    private async Task ReleasePrefetchedAsync(ServiceBusReceiver receiver)
    {
        if (options.PrefetchCount == 0)
        {
            return;
        }

        try
        {
            // One pass: what it abandons becomes available at once, so a second receive would only take it back.
            var fetched = await receiver.ReceiveMessagesAsync(options.PrefetchCount, TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
            await Task.WhenAll(fetched.Select(message => SettleAsync(receiver, message, Abandoned))).ConfigureAwait(false);
        }
        catch (ServiceBusException exception)
        {
            LogReleaseFailed(exception, source.ToString());
        }
    }

    /// <summary>Stores a batch while keeping its locks alive; returns each message's outcome.</summary>
    private async Task<IReadOnlyList<MessageOutcome>> StoreAsync(IReadOnlyList<ServiceBusReceivedMessage> batch, Func<IReadOnlyList<ServiceBusReceivedMessage>, CancellationToken, Task> renewLocks)
    {
        using var storing = new CancellationTokenSource();
        var renewal = KeepLocksAsync(batch, renewLocks, storing.Token);
        try
        {
            // Not cancelled by stopping: a batch taken is a batch stored and settled.
            return await ingest.IngestAsync([.. batch.Select(ReceivedMessages.ToIncoming)], CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await storing.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }
    }

    private Task SettleAsync(ServiceBusReceiver receiver, IReadOnlyList<ServiceBusReceivedMessage> batch, IReadOnlyList<MessageOutcome> outcomes) =>
        Task.WhenAll(batch.Select((message, index) => SettleAsync(receiver, message, outcomes[index])));

    /// <summary>Renews at half the time a lock has left, until storing ends.</summary>
    private async Task KeepLocksAsync(IReadOnlyList<ServiceBusReceivedMessage> batch, Func<IReadOnlyList<ServiceBusReceivedMessage>, CancellationToken, Task> renewLocks, CancellationToken storing)
    {
        while (!storing.IsCancellationRequested)
        {
            var remaining = batch.Min(m => m.LockedUntil) - clock.GetUtcNow();
            try
            {
                await Task.Delay(remaining / 2 > TimeSpan.FromSeconds(1) ? remaining / 2 : TimeSpan.FromSeconds(1), clock, storing).ConfigureAwait(false);
                await renewLocks(batch, storing).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (storing.IsCancellationRequested)
            {
                return;
            }
            catch (ServiceBusException exception)
            {
                // The message will come back when its lock runs out; storing it again is recognised as a duplicate.
                LogRenewFailed(exception, batch.Count, source.ToString());
                return;
            }
        }
    }

    private static Func<IReadOnlyList<ServiceBusReceivedMessage>, CancellationToken, Task> RenewMessageLocksAsync(ServiceBusReceiver receiver) =>
        (batch, cancellationToken) => Task.WhenAll(batch.Select(message => receiver.RenewMessageLockAsync(message, cancellationToken)));

    private async Task SettleAsync(ServiceBusReceiver receiver, ServiceBusReceivedMessage message, MessageOutcome outcome)
    {
        try
        {
            var settling = outcome.Action switch
            {
                SettleAction.Complete => receiver.CompleteMessageAsync(message),
                SettleAction.DeadLetter => receiver.DeadLetterMessageAsync(message, outcome.Reason, outcome.Description),
                _ => receiver.AbandonMessageAsync(message),
            };
            await settling.ConfigureAwait(false);
            metrics.ServiceBusMessages.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Action switch
            {
                SettleAction.Complete => "completed",
                SettleAction.DeadLetter => "dead-lettered",
                _ => "abandoned",
            }));
        }
        catch (ServiceBusException exception)
        {
            // The lock is gone: Service Bus redelivers the message, and a message already stored is recognised by its id.
            LogSettleFailed(exception, outcome.Action, message.MessageId, message.SequenceNumber);
        }
    }

    private void ReceiveFailed(Exception exception)
    {
        status.Failed(exception);
        LogReceiveFailed(exception, source.ToString());
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receiving from {Source} failed; retrying after a pause")]
    private partial void LogReceiveFailed(Exception exception, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the locks of {Messages} message(s) from {Source} failed; they will be redelivered when the locks expire")]
    private partial void LogRenewFailed(Exception exception, int messages, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing prefetched messages from {Source} failed; they will be redelivered when their locks expire")]
    private partial void LogReleaseFailed(Exception exception, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Settling message {MessageId} (sequence number {SequenceNumber}) as {Action} failed; Service Bus will redeliver it")]
    private partial void LogSettleFailed(Exception exception, SettleAction action, string messageId, long sequenceNumber);
}
