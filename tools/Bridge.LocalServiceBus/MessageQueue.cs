using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// A subscription, or its dead-letter sub-queue: messages in lanes, the locks receivers hold on them, and the rules
/// Service Bus applies to both (lock expiry, max delivery count, time to live, sessions). One lock guards it all.
/// Calls into the AMQP library are made under that lock, and calls from the library arrive on the thread pool (see
/// <see cref="Receiver"/>), so the two never wait on each other.
/// </summary>
internal sealed class MessageQueue
{
    private readonly object _gate = new();
    private readonly Lane _shared = new(sessionId: null);
    private readonly Dictionary<string, Lane> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, QueuedMessage> _locked = [];
    private readonly List<Receiver> _receivers = [];
    private readonly List<SessionWaiter> _waiters = [];
    private readonly TimeProvider _clock;
    private int _nextReceiver;

    public MessageQueue(string path, SubscriptionSettings settings, MessageQueue? deadLetters, TimeProvider clock)
    {
        Path = path;
        Settings = settings;
        DeadLetters = deadLetters;
        _clock = clock;
    }

    public string Path { get; }

    public SubscriptionSettings Settings { get; }

    /// <summary>The dead-letter sub-queue; null for a dead-letter queue itself.</summary>
    public MessageQueue? DeadLetters { get; }

    /// <summary>A dead-letter queue never requires sessions, even under a session-enabled subscription.</summary>
    public bool RequiresSession => Settings.RequiresSession && DeadLetters is not null;

    public void Enqueue(QueuedMessage message)
    {
        lock (_gate)
        {
            if (RequiresSession && message.SessionId is null)
            {
                DeadLetter(message, "Session id is null.", "Session enabled entity doesn't allow a message whose session identifier is null.");
                return;
            }

            LaneFor(message.SessionId).Available.Add(message.SequenceNumber, message);
            AssignWaitingSessions();
            DispatchLocked();
        }
    }

    public void Dispatch()
    {
        lock (_gate)
        {
            DispatchLocked();
        }
    }

    /// <summary>Starts taking messages with a receiver that does not use sessions.</summary>
    public void Attach(Receiver receiver)
    {
        if (RequiresSession)
        {
            throw new AmqpException(AmqpErrorCode.NotAllowed, $"It is not possible for an entity that requires sessions to create a non-sessionful message receiver. Entity: {Path}.");
        }

        lock (_gate)
        {
            receiver.Lane = _shared;
            _receivers.Add(receiver);
        }
    }

    /// <summary>
    /// Locks a session for a receiver: the one it names, or else the next session with messages waiting, waiting up to
    /// <paramref name="wait"/> for one to appear as Service Bus does.
    /// </summary>
    public async Task<Lane> AcceptSessionAsync(Receiver receiver, string? sessionId, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!RequiresSession)
        {
            throw new AmqpException(AmqpErrorCode.NotAllowed, $"It is not possible for an entity that does not require sessions to create a sessionful message receiver. Entity: {Path}.");
        }

        SessionWaiter waiter;
        lock (_gate)
        {
            if (sessionId is not null)
            {
                var lane = LaneFor(sessionId);
                if (lane.Holder is not null)
                {
                    throw new AmqpException(ServiceBusProtocol.SessionCannotBeLocked, $"The requested session '{sessionId}' cannot be accepted. It may be locked by another receiver. Entity: {Path}.");
                }

                HoldSession(lane, receiver);
                return lane;
            }

            if (NextFreeSession() is { } next)
            {
                HoldSession(next, receiver);
                return next;
            }

            waiter = new SessionWaiter(receiver, _clock.GetUtcNow() + wait);
            _waiters.Add(waiter);
        }

        await using var registration = cancellationToken.Register(() => Abandon(waiter));
        return await waiter.Accepted.Task.ConfigureAwait(false);
    }

    /// <summary>Handles a receiver's settlement of a delivery: complete, abandon or dead-letter.</summary>
    public void Settle(Receiver receiver, Delivery delivery)
    {
        lock (_gate)
        {
            var lockToken = new Guid(delivery.DeliveryTag.AsSpan());
            var outcome = delivery.State is Microsoft.Azure.Amqp.Transaction.TransactionalState transactional ? transactional.Outcome : delivery.State as Outcome;
            receiver.Answer(delivery, Apply(lockToken, receiver, outcome));
        }
    }

    /// <summary>Settles by lock token, as the management operation <c>update-disposition</c> does for any receiver.</summary>
    public Outcome Settle(Guid lockToken, Outcome outcome)
    {
        lock (_gate)
        {
            return Apply(lockToken, holder: null, outcome);
        }
    }

    /// <summary>Extends message locks; null for a token whose lock is gone.</summary>
    public DateTimeOffset? RenewLock(Guid lockToken)
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            if (!_locked.TryGetValue(lockToken, out var message) || message.LockedUntil <= now || message.SessionId is not null)
            {
                return null;
            }

            message.LockedUntil = now + Settings.LockDuration;
            return message.LockedUntil;
        }
    }

    /// <summary>Extends a session lock; null when no receiver holds the session.</summary>
    public DateTimeOffset? RenewSessionLock(string sessionId)
    {
        lock (_gate)
        {
            if (HeldSession(sessionId) is not { } lane)
            {
                return null;
            }

            lane.LockedUntil = _clock.GetUtcNow() + Settings.LockDuration;
            foreach (var message in _locked.Values.Where(m => m.Holder == lane.Holder))
            {
                message.LockedUntil = lane.LockedUntil;
            }

            return lane.LockedUntil;
        }
    }

    /// <summary>A held session's state; false when no receiver holds the session.</summary>
    public bool TryGetSessionState(string sessionId, out byte[]? state)
    {
        lock (_gate)
        {
            state = HeldSession(sessionId)?.State;
            return HeldSession(sessionId) is not null;
        }
    }

    public bool TrySetSessionState(string sessionId, byte[]? state)
    {
        lock (_gate)
        {
            if (HeldSession(sessionId) is not { } lane)
            {
                return false;
            }

            lane.State = state;
            return true;
        }
    }

    /// <summary>Up to <paramref name="count"/> messages from a sequence number on, without locking them.</summary>
    public IReadOnlyList<QueuedMessage> Peek(long fromSequenceNumber, int count)
    {
        lock (_gate)
        {
            return [.. _sessions.Values.Prepend(_shared)
                .SelectMany(lane => lane.Available.Values)
                .Concat(_locked.Values)
                .Where(m => m.SequenceNumber >= fromSequenceNumber)
                .OrderBy(m => m.SequenceNumber)
                .Take(count)];
        }
    }

    /// <summary>A receiver's link closed: a session it held is free again; message locks run until they expire, as on Service Bus.</summary>
    public void Detach(Receiver receiver)
    {
        lock (_gate)
        {
            _receivers.Remove(receiver);
            if (receiver.Lane is { SessionId: not null } lane && lane.Holder == receiver)
            {
                ReleaseSession(lane);
            }

            DispatchLocked();
        }
    }

    /// <summary>Applies every rule that depends on time: lock expiry, session lock expiry, time to live, waits for a session.</summary>
    public void Sweep()
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            foreach (var message in _locked.Values.Where(m => m.SessionId is null && m.LockedUntil <= now).ToList())
            {
                Release(message);
            }

            // The holder's link stays open, as on Service Bus; what it settles from now on fails with SessionLockLost.
            foreach (var lane in _sessions.Values.Where(l => l.Holder is not null && l.LockedUntil <= now).ToList())
            {
                ReleaseSession(lane);
            }

            if (DeadLetters is not null)
            {
                foreach (var message in _sessions.Values.Prepend(_shared).SelectMany(l => l.Available.Values).Where(m => m.ExpiresAt <= now).ToList())
                {
                    LaneFor(message.SessionId).Available.Remove(message.SequenceNumber);
                    if (Settings.DeadLetteringOnMessageExpiration)
                    {
                        DeadLetter(message, "TTLExpiredException", "The message expired and was dead lettered.");
                    }
                }
            }

            foreach (var waiter in _waiters.Where(w => w.Deadline <= now).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Accepted.TrySetException(new AmqpException(ServiceBusProtocol.Timeout, $"No session became available before the operation timed out. Entity: {Path}."));
            }

            RemoveIdleSessions();
            DispatchLocked();
        }
    }

    private Outcome Apply(Guid lockToken, Receiver? holder, Outcome? outcome)
    {
        var now = _clock.GetUtcNow();
        if (!_locked.TryGetValue(lockToken, out var message) || (holder is not null && message.Holder != holder) || message.LockedUntil <= now)
        {
            var lostSession = holder?.Lane?.SessionId is not null;
            return ServiceBusProtocol.Rejection(
                lostSession ? ServiceBusProtocol.SessionLockLost : ServiceBusProtocol.MessageLockLost,
                lostSession
                    ? $"The session lock has expired on the MessageSession. Accept a new MessageSession. Entity: {Path}."
                    : $"The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue. Entity: {Path}.");
        }

        switch (outcome)
        {
            case Accepted:
                _locked.Remove(lockToken);
                break;
            case Rejected rejected:
                _locked.Remove(lockToken);
                var info = rejected.Error?.Info;
                DeadLetter(
                    message,
                    info?.TryGetValue<string>(ServiceBusProtocol.DeadLetterReason, out var reason) == true ? reason : null,
                    info?.TryGetValue<string>(ServiceBusProtocol.DeadLetterErrorDescription, out var description) == true ? description : null,
                    info?.Where(p => p.Key.ToString() is not (ServiceBusProtocol.DeadLetterReason or ServiceBusProtocol.DeadLetterErrorDescription)));
                break;
            case Modified { UndeliverableHere: true }:
                return ServiceBusProtocol.Rejection(AmqpErrorCode.NotImplemented, "Deferral is not served by the local Service Bus endpoint (see tools/Bridge.LocalServiceBus/README.md).");
            case Modified modified:
                if (modified.MessageAnnotations is { Count: > 0 } changes)
                {
                    message.Content = message.Content.WithApplicationProperties(changes);
                }

                Release(message);
                break;
            case Released:
                // The client did not act on it (the .NET SDK releases what arrives after a receive call returned), so
                // this delivery does not count as an attempt.
                message.Deliveries--;
                Release(message);
                break;
            default:
                return ServiceBusProtocol.Rejection(AmqpErrorCode.NotImplemented, $"The outcome {outcome} is not served by the local Service Bus endpoint.");
        }

        AssignWaitingSessions();
        DispatchLocked();
        return AmqpConstants.AcceptedOutcome;
    }


    private void DispatchLocked()
    {
        // One message per receiver per round, so receivers sharing a lane share its messages.
        var ready = _receivers.Where(r => r.Lane is not null && !r.IsClosed).ToList();
        var sent = true;
        while (sent && ready.Count > 0)
        {
            sent = false;
            for (var i = 0; i < ready.Count; i++)
            {
                var receiver = ready[(_nextReceiver + i) % ready.Count];
                var lane = receiver.Lane!;
                if (receiver.Credit <= 0 || lane.Available.Count == 0)
                {
                    continue;
                }

                var message = lane.Available.First().Value;
                lane.Available.Remove(message.SequenceNumber);
                message.Deliveries++;
                message.LockToken = Guid.NewGuid();
                message.LockedUntil = lane.SessionId is null ? _clock.GetUtcNow() + Settings.LockDuration : lane.LockedUntil;
                message.Holder = receiver;
                if (!receiver.ReceivesAndDeletes)
                {
                    _locked.Add(message.LockToken, message);
                }

                receiver.Send(message);
                sent = true;
            }

            _nextReceiver++;
        }
    }

    /// <summary>Puts a locked message back in its lane, or dead-letters it once it has used every delivery allowed.</summary>
    private void Release(QueuedMessage message)
    {
        _locked.Remove(message.LockToken);
        message.Holder = null;
        if (DeadLetters is not null && message.Deliveries >= Settings.MaxDeliveryCount)
        {
            DeadLetter(message, "MaxDeliveryCountExceeded", $"Message could not be consumed after {Settings.MaxDeliveryCount} delivery attempts.");
            return;
        }

        LaneFor(message.SessionId).Available.Add(message.SequenceNumber, message);
    }

    private void DeadLetter(QueuedMessage message, string? reason, string? description, IEnumerable<KeyValuePair<MapKey, object>>? otherProperties = null)
    {
        if (DeadLetters is null)
        {
            // A dead-letter queue has nowhere further to send a message; Service Bus keeps it where it is.
            LaneFor(message.SessionId).Available.Add(message.SequenceNumber, message);
            return;
        }

        var properties = (otherProperties ?? []).ToList();
        if (reason is not null)
        {
            properties.Add(new(new MapKey(ServiceBusProtocol.DeadLetterReason), reason));
        }

        if (description is not null)
        {
            properties.Add(new(new MapKey(ServiceBusProtocol.DeadLetterErrorDescription), description));
        }

        DeadLetters.Enqueue(new QueuedMessage(message.Content.WithApplicationProperties(properties), message.SequenceNumber, message.EnqueuedTime, DateTimeOffset.MaxValue)
        {
            Deliveries = message.Deliveries,
            DeadLetterSource = Path,
        });
    }

    private Lane LaneFor(string? sessionId)
    {
        if (!RequiresSession)
        {
            return _shared;
        }

        // A message without a session id never reaches a session lane: Enqueue dead-letters it, as Service Bus does.
        var id = sessionId ?? string.Empty;
        if (!_sessions.TryGetValue(id, out var lane))
        {
            lane = new Lane(id);
            _sessions.Add(id, lane);
        }

        return lane;
    }

    private Lane? HeldSession(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var lane) && lane.Holder is not null && lane.LockedUntil > _clock.GetUtcNow() ? lane : null;

    private Lane? NextFreeSession() => _sessions.Values
        .Where(l => l.Holder is null && l.Available.Count > 0)
        .MinBy(l => l.OldestSequenceNumber);

    private void HoldSession(Lane lane, Receiver receiver)
    {
        lane.Holder = receiver;
        lane.LockedUntil = _clock.GetUtcNow() + Settings.LockDuration;
        receiver.Lane = lane;
        _receivers.Add(receiver);
    }

    private void ReleaseSession(Lane lane)
    {
        var holder = lane.Holder;
        lane.Holder = null;
        _receivers.Remove(holder!);
        foreach (var message in _locked.Values.Where(m => m.Holder == holder).ToList())
        {
            Release(message);
        }

        AssignWaitingSessions();
    }

    private void AssignWaitingSessions()
    {
        while (_waiters.Count > 0 && NextFreeSession() is { } lane)
        {
            var waiter = _waiters[0];
            _waiters.RemoveAt(0);
            HoldSession(lane, waiter.Receiver);
            if (!waiter.Accepted.TrySetResult(lane))
            {
                ReleaseSession(lane);
            }
        }
    }

    private void Abandon(SessionWaiter waiter)
    {
        lock (_gate)
        {
            _waiters.Remove(waiter);
        }

        waiter.Accepted.TrySetCanceled();
    }

    private void RemoveIdleSessions()
    {
        foreach (var (id, lane) in _sessions.Where(s => s.Value.Holder is null && s.Value.Available.Count == 0 && s.Value.State is null).ToList())
        {
            _sessions.Remove(id);
        }
    }

    private sealed record SessionWaiter(Receiver Receiver, DateTimeOffset Deadline)
    {
        public TaskCompletionSource<Lane> Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
