using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// An entity's <c>$management</c> node: lock and session-lock renewal, session state, settlement by lock token and
/// peek. Requests and answers are AMQP maps; failures carry <c>statusCode</c> and <c>errorCondition</c>, which the SDKs
/// turn into the same failure reasons a link settlement gives.
/// </summary>
internal sealed class Management(string entityPath, MessageQueue? queue)
{
    private static readonly MapKey LockTokens = new("lock-tokens");
    private static readonly MapKey SessionId = new("session-id");
    private static readonly MapKey SessionState = new("session-state");

    public AmqpMessage Answer(AmqpMessage request, AmqpConnection connection)
    {
        request.ApplicationProperties.Map.TryGetValue<string>("operation", out var operation);
        var body = request.ValueBody?.Value as AmqpMap ?? new AmqpMap();
        if (queue is null)
        {
            return NotServed(operation);
        }

        return operation switch
        {
            "com.microsoft:renew-lock" => RenewLocks(queue, body),
            "com.microsoft:renew-session-lock" => queue.RenewSessionLock(SessionOf(body)) is { } until
                ? Success(new AmqpMap { [new MapKey("expiration")] = until.UtcDateTime })
                : SessionLost(),
            "com.microsoft:get-session-state" => queue.TryGetSessionState(SessionOf(body), out var state)
                ? Success(new AmqpMap { [SessionState] = state is null ? null! : new ArraySegment<byte>(state) })
                : SessionLost(),
            "com.microsoft:set-session-state" => queue.TrySetSessionState(SessionOf(body), body[SessionState] is ArraySegment<byte> bytes ? bytes.ToArray() : null)
                ? Success(new AmqpMap())
                : SessionLost(),
            "com.microsoft:update-disposition" => UpdateDisposition(queue, body),
            "com.microsoft:peek-message" => Peek(queue, body),
            _ => NotServed(operation),
        };
    }

    private static AmqpMessage RenewLocks(MessageQueue queue, AmqpMap body)
    {
        var expirations = new List<DateTime>();
        foreach (var token in (Guid[])body[LockTokens])
        {
            if (queue.RenewLock(token) is not { } until)
            {
                return Failure(410, ServiceBusProtocol.MessageLockLost, $"The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue. Entity: {queue.Path}.");
            }

            expirations.Add(until.UtcDateTime);
        }

        return Success(new AmqpMap { [new MapKey("expirations")] = expirations.ToArray() });
    }

    private static AmqpMessage UpdateDisposition(MessageQueue queue, AmqpMap body)
    {
        var status = body[new MapKey("disposition-status")] as string;
        var changes = body[new MapKey("properties-to-modify")] as AmqpMap;
        Outcome outcome = status switch
        {
            "completed" => AmqpConstants.AcceptedOutcome,
            "abandoned" => new Modified { DeliveryFailed = true, MessageAnnotations = Fields(changes) },
            "defered" => new Modified { UndeliverableHere = true, MessageAnnotations = Fields(changes) },
            "suspended" => new Rejected
            {
                Error = new Error
                {
                    Condition = ServiceBusProtocol.DeadLetterCondition,
                    Info = DeadLetterInfo(body[new MapKey("deadletter-reason")] as string, body[new MapKey("deadletter-description")] as string, changes),
                },
            },
            _ => new Released(),
        };

        foreach (var token in (Guid[])body[LockTokens])
        {
            if (queue.Settle(token, outcome) is Rejected { Error: var error })
            {
                return Failure(error.Condition.Equals(ServiceBusProtocol.MessageLockLost) ? 410 : 501, error.Condition, error.Description);
            }
        }

        return Success(new AmqpMap());
    }

    private static AmqpMessage Peek(MessageQueue queue, AmqpMap body)
    {
        var from = body[new MapKey("from-sequence-number")] is long sequenceNumber ? sequenceNumber : 0;
        var count = body[new MapKey("message-count")] is int n ? n : 1;
        var messages = queue.Peek(from, count);
        if (messages.Count == 0)
        {
            return Failure(204, null, "No messages to peek.");
        }

        var encoded = messages.Select(m =>
        {
            var delivery = m.ToDelivery();
            delivery.Header.DeliveryCount = (uint)m.Deliveries;
            using var stream = delivery.ToStream();
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return new AmqpMap { [new MapKey("message")] = new ArraySegment<byte>(bytes) };
        });
        return Success(new AmqpMap { [new MapKey("messages")] = encoded.ToList() });
    }

    private static string SessionOf(AmqpMap body) => body[SessionId] as string ?? string.Empty;

    private static Fields Fields(AmqpMap? map)
    {
        var fields = new Fields();
        foreach (var (key, value) in map ?? new AmqpMap())
        {
            fields[key.Key.ToString()] = value;
        }

        return fields;
    }

    private static Fields DeadLetterInfo(string? reason, string? description, AmqpMap? changes)
    {
        var info = Fields(changes);
        if (reason is not null)
        {
            info[ServiceBusProtocol.DeadLetterReason] = reason;
        }

        if (description is not null)
        {
            info[ServiceBusProtocol.DeadLetterErrorDescription] = description;
        }

        return info;
    }

    private AmqpMessage NotServed(string? operation) =>
        Failure(501, AmqpErrorCode.NotImplemented, $"The operation '{operation}' on '{entityPath}' is not served by the local Service Bus endpoint (see tools/Bridge.LocalServiceBus/README.md).");

    private AmqpMessage SessionLost() =>
        Failure(410, ServiceBusProtocol.SessionLockLost, $"The session lock has expired on the MessageSession. Accept a new MessageSession. Entity: {entityPath}.");

    private static AmqpMessage Success(AmqpMap body)
    {
        var response = AmqpMessage.Create(new AmqpValue { Value = body });
        response.ApplicationProperties.Map["statusCode"] = 200;
        response.ApplicationProperties.Map["statusDescription"] = "OK";
        return response;
    }

    private static AmqpMessage Failure(int statusCode, AmqpSymbol? condition, string description)
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties.Map["statusCode"] = statusCode;
        response.ApplicationProperties.Map["statusDescription"] = description;
        if (condition is { } symbol)
        {
            response.ApplicationProperties.Map["errorCondition"] = symbol;
        }

        return response;
    }
}
