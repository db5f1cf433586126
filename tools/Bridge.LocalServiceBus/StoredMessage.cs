using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// A message as a producer sent it: its sections, copied out of the transfer. Every delivery builds a fresh
/// <see cref="AmqpMessage"/> from them, because a delivery carries its own header and annotations (delivery count, lock)
/// and an AMQP message object cannot be sent twice.
/// </summary>
internal sealed class StoredMessage
{
    private readonly AmqpMessage _sent;

    private StoredMessage(AmqpMessage sent, long size)
    {
        _sent = sent;
        Size = size;
        MessageId = sent.Properties?.MessageId?.ToString();
        SessionId = sent.Properties?.GroupId;
        TimeToLive = sent.Header?.Ttl is uint milliseconds ? TimeSpan.FromMilliseconds(milliseconds) : null;
    }

    public string? MessageId { get; }

    /// <summary>The Service Bus <c>SessionId</c>, which travels as the AMQP group-id.</summary>
    public string? SessionId { get; }

    public TimeSpan? TimeToLive { get; }

    public long Size { get; }

    /// <summary>The messages in one transfer: itself, or each message of a batch.</summary>
    public static IReadOnlyList<StoredMessage> Unpack(AmqpMessage transfer)
    {
        if (transfer.MessageFormat != ServiceBusProtocol.BatchMessageFormat)
        {
            return [Capture(transfer, transfer.SerializedMessageSize)];
        }

        return [.. transfer.DataBody.Select(section =>
        {
            var encoded = (ArraySegment<byte>)section.Value;
            return Capture(AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([encoded]), true), encoded.Count);
        })];
    }

    /// <summary>Reads every section now, so that later deliveries only read decoded values and never share a buffer.</summary>
    private static StoredMessage Capture(AmqpMessage message, long size)
    {
        var copy = CreateBody(message);
        CopySections(message, copy, extraApplicationProperties: []);

        // Service Bus gives a message its producer sent without an id one of its own, a GUID without dashes; so a
        // receiver never sees a message without a MessageId.
        if (copy.Properties.MessageId is null)
        {
            copy.Properties.MessageId = Guid.NewGuid().ToString("N");
        }

        return new StoredMessage(copy, size);
    }

    /// <summary>A copy with application properties added or replaced, as abandon, defer and dead-letter allow.</summary>
    public StoredMessage WithApplicationProperties(IEnumerable<KeyValuePair<MapKey, object>> changes)
    {
        var copy = CreateBody(_sent);
        CopySections(_sent, copy, changes);
        return new StoredMessage(copy, Size);
    }

    /// <summary>A new AMQP message for one delivery; the caller sets its header and annotations.</summary>
    public AmqpMessage CreateDelivery()
    {
        var delivery = CreateBody(_sent);
        CopySections(_sent, delivery, extraApplicationProperties: []);
        return delivery;
    }

    private static AmqpMessage CreateBody(AmqpMessage source) => (source.BodyType & (SectionFlag.Data | SectionFlag.AmqpValue | SectionFlag.AmqpSequence)) switch
    {
        SectionFlag.AmqpValue => AmqpMessage.Create(new AmqpValue { Value = source.ValueBody.Value }),
        SectionFlag.AmqpSequence => AmqpMessage.Create(source.SequenceBody.Select(s => new AmqpSequence(s.List)).ToList()),
        // Copied, so a message never points into a transfer buffer the link may reuse.
        SectionFlag.Data => AmqpMessage.Create(source.DataBody.Select(d => new Data { Value = new ArraySegment<byte>(((ArraySegment<byte>)d.Value).ToArray()) }).ToList()),
        _ => AmqpMessage.Create(),
    };

    private static void CopySections(AmqpMessage source, AmqpMessage target, IEnumerable<KeyValuePair<MapKey, object>> extraApplicationProperties)
    {
        var sections = source.Sections;
        if ((sections & SectionFlag.Header) != 0)
        {
            target.Header.Durable = source.Header.Durable;
            target.Header.Priority = source.Header.Priority;
            target.Header.Ttl = source.Header.Ttl;
        }

        if ((sections & SectionFlag.MessageAnnotations) != 0)
        {
            foreach (var (key, value) in source.MessageAnnotations.Map)
            {
                target.MessageAnnotations.Map[key] = value;
            }
        }

        if ((sections & SectionFlag.Properties) != 0)
        {
            var (from, to) = (source.Properties, target.Properties);
            to.MessageId = from.MessageId;
            to.UserId = from.UserId;
            to.To = from.To;
            to.Subject = from.Subject;
            to.ReplyTo = from.ReplyTo;
            to.CorrelationId = from.CorrelationId;
            to.ContentType = from.ContentType;
            to.ContentEncoding = from.ContentEncoding;
            to.AbsoluteExpiryTime = from.AbsoluteExpiryTime;
            to.CreationTime = from.CreationTime;
            to.GroupId = from.GroupId;
            to.GroupSequence = from.GroupSequence;
            to.ReplyToGroupId = from.ReplyToGroupId;
        }

        if ((sections & SectionFlag.ApplicationProperties) != 0)
        {
            foreach (var (key, value) in source.ApplicationProperties.Map)
            {
                target.ApplicationProperties.Map[key] = value;
            }
        }

        foreach (var (key, value) in extraApplicationProperties)
        {
            target.ApplicationProperties.Map[key] = value;
        }

        if ((sections & SectionFlag.Footer) != 0)
        {
            foreach (var (key, value) in source.Footer.Map)
            {
                target.Footer.Map[key] = value;
            }
        }
    }
}
