using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// An AMQP request/response node such as <c>$cbs</c> or an entity's <c>$management</c>. A client attaches a link pair:
/// requests arrive on one, and each answer leaves on the link whose target is the request's reply-to address, with the
/// request's message-id as its correlation-id.
/// </summary>
internal sealed class RequestResponseNode(Func<AmqpMessage, AmqpConnection, AmqpMessage> answer)
{
    private readonly ConcurrentDictionary<(AmqpConnection Connection, string Address), SendingAmqpLink> _replyLinks = new();

    public void Attach(AmqpLink link)
    {
        if (link is SendingAmqpLink replies)
        {
            // .NET clients name the reply address as the link's target; the JavaScript SDK leaves the target empty and
            // uses the link's name.
            var key = (link.Session.Connection, (link.Settings.Target as Target)?.Address?.ToString() ?? link.Name);
            _replyLinks[key] = replies;
            link.SafeAddClosed((_, _) => _replyLinks.TryRemove(key, out _));
            return;
        }

        var requests = (ReceivingAmqpLink)link;
        requests.RegisterMessageListener(request => ThreadPool.QueueUserWorkItem(_ => Answer(requests, request)));
    }

    private void Answer(ReceivingAmqpLink requests, AmqpMessage request)
    {
        requests.AcceptMessage(request, batchable: false);
        var connection = requests.Session.Connection;
        var response = answer(request, connection);
        response.Properties.CorrelationId = request.Properties.MessageId;
        if (request.Properties.ReplyTo?.ToString() is { } replyTo && _replyLinks.TryGetValue((connection, replyTo), out var replies))
        {
            replies.SendMessageNoWait(response, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
        }
    }
}
