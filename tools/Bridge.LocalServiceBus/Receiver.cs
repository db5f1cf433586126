using Microsoft.Azure.Amqp;

namespace Bridge.LocalServiceBus;

/// <summary>
/// A client's peek-lock receiving link, seen from the broker's sending end: how much credit it has left and which
/// lane (session) it takes from. The link's callbacks hop to the thread pool before they reach the queue, so the queue
/// never waits for its lock while the AMQP library holds one of its own.
/// </summary>
internal sealed class Receiver
{
    private readonly SendingAmqpLink _link;

    public Receiver(SendingAmqpLink link, MessageQueue queue)
    {
        _link = link;
        link.RegisterCreditListener((_, _, _) => ThreadPool.QueueUserWorkItem(_ => queue.Dispatch()));
        link.RegisterDispositionListener(delivery => ThreadPool.QueueUserWorkItem(_ => queue.Settle(this, delivery)));
        link.SafeAddClosed((_, _) => ThreadPool.QueueUserWorkItem(_ => queue.Detach(this)));
    }

    public string Name => _link.Name;

    /// <summary>The lane it takes from: the shared one, or the session it holds.</summary>
    public Lane? Lane { get; set; }

    /// <summary>Credit the client granted that no delivery has used yet, counting deliveries queued inside the link.</summary>
    public int Credit => (int)_link.LinkCredit - (int)_link.Available;

    public bool IsClosed => _link.IsClosing();

    /// <summary>A receive-and-delete receiver settles on send: its messages are gone once sent, and never locked.</summary>
    public bool ReceivesAndDeletes => _link.Settings.SettleType == SettleMode.SettleOnSend;

    public void Send(QueuedMessage message) => _link.SendMessageNoWait(message.ToDelivery(), new ArraySegment<byte>(message.LockToken.ToByteArray()), AmqpConstants.NullBinary);

    /// <summary>Settles the client's settlement with the broker's verdict; a client that settled first (released) needs no answer.</summary>
    public void Answer(Delivery delivery, Microsoft.Azure.Amqp.Framing.Outcome outcome)
    {
        if (!delivery.Settled)
        {
            _link.DisposeDelivery(delivery, settled: true, outcome);
        }
    }
}
