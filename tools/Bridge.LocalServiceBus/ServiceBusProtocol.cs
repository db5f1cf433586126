using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// The names Service Bus adds to AMQP 1.0: vendor error conditions, message annotations, link properties and the
/// batch message format. The SDKs map these to their own failure reasons, so each is spelled exactly as Service Bus
/// spells it.
/// </summary>
internal static class ServiceBusProtocol
{
    /// <summary>Service Bus Standard's limit on one message, and on one batch transfer.</summary>
    public const int MaxMessageSize = 256 * 1024;

    /// <summary>The message format of a batch send: one transfer whose body holds one <c>data</c> section per encoded message.</summary>
    public const uint BatchMessageFormat = 0x80013700;

    public const string DeadLetterQueueSuffix = "/$DeadLetterQueue";
    public const string ManagementSuffix = "/$management";
    public const string ClaimsBasedSecurityNode = "$cbs";

    // Error conditions.
    public static readonly AmqpSymbol MessageLockLost = "com.microsoft:message-lock-lost";
    public static readonly AmqpSymbol SessionLockLost = "com.microsoft:session-lock-lost";
    public static readonly AmqpSymbol SessionCannotBeLocked = "com.microsoft:session-cannot-be-locked";
    /// <summary>An operation that ran out of time; also the attach property in which a client says how long it waits.</summary>
    public static readonly AmqpSymbol Timeout = "com.microsoft:timeout";
    public static readonly AmqpSymbol EntityNotFound = AmqpErrorCode.NotFound;

    // Outcomes and their fields.
    public static readonly AmqpSymbol DeadLetterCondition = "com.microsoft:dead-letter";
    public const string DeadLetterReason = "DeadLetterReason";
    public const string DeadLetterErrorDescription = "DeadLetterErrorDescription";

    // Message annotations on every peek-locked delivery.
    public const string SequenceNumber = "x-opt-sequence-number";
    public const string EnqueuedTime = "x-opt-enqueued-time";
    public const string LockedUntil = "x-opt-locked-until";
    public const string DeadLetterSource = "x-opt-deadletter-source";

    // Link attach: the session filter a session receiver sends, and the session lock Service Bus answers with.
    public static readonly AmqpSymbol SessionFilter = "com.microsoft:session-filter";
    public static readonly AmqpSymbol SessionLockedUntilUtc = "com.microsoft:locked-until-utc";

    /// <summary>The outcome that refuses a transfer or a settlement with a condition the SDKs recognise.</summary>
    public static Rejected Rejection(AmqpSymbol condition, string description) =>
        new() { Error = new Error { Condition = condition, Description = description } };
}
