using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace Bridge.LocalServiceBus;

/// <summary>
/// The AMQP listener and its address space: <c>$cbs</c>, each topic (where producers send), each subscription and its
/// dead-letter queue (where consumers receive) and their <c>$management</c> nodes. It accepts what the SDKs send in
/// development-emulator mode: plain TCP, SASL MSSBCBS (.NET) or ANONYMOUS (JavaScript), then CBS put-token per entity.
/// </summary>
internal sealed class Broker : IRuntimeProvider, IAsyncDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan DefaultSessionWait = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, Topic> _topics = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, MessageQueue> _queues = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, RequestResponseNode> _managementNodes = new(StringComparer.OrdinalIgnoreCase);
    private readonly RequestResponseNode _cbsNode;
    private readonly ClaimsBasedSecurity _cbs;
    private readonly TextWriter _log;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _stopping = new();
    private AmqpSettings? _settings;
    private TransportListener? _listener;
    private Task _sweeping = Task.CompletedTask;

    public Broker(Topology topology, SharedAccessSignature signature, TimeProvider clock, TextWriter log)
    {
        _log = log;
        _clock = clock;
        _cbs = new ClaimsBasedSecurity(signature, clock);
        _cbsNode = new RequestResponseNode(_cbs.Answer);
        foreach (var topic in topology.Topics)
        {
            var subscriptions = topic.Subscriptions.Select(s =>
            {
                var path = $"{topic.Name}/Subscriptions/{s.Name}";
                var deadLetters = new MessageQueue(path + ServiceBusProtocol.DeadLetterQueueSuffix, s, deadLetters: null, clock);
                var subscription = new MessageQueue(path, s, deadLetters, clock);
                _queues.Add(deadLetters.Path, deadLetters);
                _queues.Add(subscription.Path, subscription);
                return subscription;
            }).ToList();
            _topics.Add(topic.Name, new Topic(topic, subscriptions, clock));
        }
    }

    public void Start(string host, int port)
    {
        _settings = new AmqpSettings { RuntimeProvider = this };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        _settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        _settings.TransportProviders.Add(amqp);

        var tcp = new TcpTransportSettings { Host = host, Port = port };
        _listener = new AmqpTransportListener([tcp.CreateListener()], _settings);
        _listener.Listen(OnAcceptTransport);
        _sweeping = SweepAsync(_stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener?.Close();
        await _sweeping;
        _stopping.Dispose();
    }

    public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
        new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

    public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) => new(connection, settings, this);

    public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        // Role true: the client sends and the broker receives.
        if (settings.Role == true)
        {
            settings.MaxMessageSize = ServiceBusProtocol.MaxMessageSize;
            settings.TotalLinkCredit = 1000;
            settings.AutoSendFlow = true;
            return new ReceivingAmqpLink(session, settings);
        }

        return new SendingAmqpLink(session, settings);
    }

    public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        var opening = new TaskCompletionSource(state);
        OpenLinkAsync(link).ContinueWith(
            t =>
            {
                if (t.Exception is { } failure)
                {
                    _log.WriteLine($"link '{link.Name}' refused: {failure.InnerException?.Message}");
                    opening.SetException(failure.InnerExceptions);
                }
                else
                {
                    opening.SetResult();
                }

                callback(opening.Task);
            },
            TaskScheduler.Default);
        return opening.Task;
    }

    public void EndOpenLink(IAsyncResult result) => ((Task)result).GetAwaiter().GetResult();

    private async Task OpenLinkAsync(AmqpLink link)
    {
        // Seen from the broker, the client's sending link is a receiving one: its address is the target.
        var address = link.IsReceiver ? ((Target)link.Settings.Target).Address?.ToString() : ((Source)link.Settings.Source).Address?.ToString();
        var path = EntityPath(address);
        if (path == ServiceBusProtocol.ClaimsBasedSecurityNode)
        {
            _cbsNode.Attach(link);
            return;
        }

        var isManagement = path.EndsWith(ServiceBusProtocol.ManagementSuffix, StringComparison.OrdinalIgnoreCase);
        var entity = isManagement ? path[..^ServiceBusProtocol.ManagementSuffix.Length] : path;
        if (!_topics.ContainsKey(entity) && !_queues.ContainsKey(entity))
        {
            throw new AmqpException(ServiceBusProtocol.EntityNotFound, $"The messaging entity '{entity}' could not be found.");
        }

        if (!_cbs.IsAuthorized(link.Session.Connection, entity))
        {
            throw new AmqpException(AmqpErrorCode.UnauthorizedAccess, $"Unauthorized access. 'Send' or 'Listen' claim(s) are required to perform this operation. Put a token for '{entity}' on $cbs first.");
        }

        if (isManagement)
        {
            _managementNodes.GetOrAdd(entity, e => new RequestResponseNode(new Management(e, _queues.GetValueOrDefault(e)).Answer)).Attach(link);
        }
        else if (link.IsReceiver)
        {
            if (!_topics.TryGetValue(entity, out var topic))
            {
                throw new AmqpException(AmqpErrorCode.NotAllowed, $"'{entity}' is a subscription; send to its topic.");
            }

            topic.Attach((ReceivingAmqpLink)link);
        }
        else if (_queues.TryGetValue(entity, out var queue))
        {
            await AttachReceiverAsync((SendingAmqpLink)link, queue);
        }
        else
        {
            throw new AmqpException(AmqpErrorCode.NotAllowed, $"'{entity}' is a topic; receive from one of its subscriptions.");
        }
    }

    private static async Task AttachReceiverAsync(SendingAmqpLink link, MessageQueue queue)
    {
        var receiver = new Receiver(link, queue);
        var source = (Source)link.Settings.Source;
        if (source.FilterSet is not { } filters || !filters.TryGetValue<object>(ServiceBusProtocol.SessionFilter, out var requested))
        {
            queue.Attach(receiver);
            return;
        }

        var wait = link.Settings.Properties?.TryGetValue<uint>(ServiceBusProtocol.Timeout, out var milliseconds) == true ? TimeSpan.FromMilliseconds(milliseconds) : DefaultSessionWait;
        using var closed = new CancellationTokenSource();
        link.SafeAddClosed((_, _) => closed.Cancel());
        var lane = await queue.AcceptSessionAsync(receiver, requested as string, wait, closed.Token);

        // The attach the client gets back names the session it now holds and how long the lock lasts.
        filters[ServiceBusProtocol.SessionFilter] = lane.SessionId;
        link.Settings.Properties ??= new Fields();
        link.Settings.Properties[ServiceBusProtocol.SessionLockedUntilUtc] = lane.LockedUntil.UtcDateTime.Ticks;
    }

    /// <summary>The entity path of a link address: <c>/topic</c>, <c>topic/Subscriptions/sub</c> or a full URI.</summary>
    private static string EntityPath(string? address)
    {
        if (address is null)
        {
            throw new AmqpException(AmqpErrorCode.InvalidField, "The link has no address.");
        }

        var path = Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb" ? uri.AbsolutePath : address;
        return path.Trim('/');
    }

    private void OnAcceptTransport(TransportListener listener, TransportAsyncCallbackArgs args)
    {
        var connectionSettings = new AmqpConnectionSettings
        {
            ContainerId = "bridge-local-service-bus",
            MaxFrameSize = 64 * 1024,
            IdleTimeOut = 120_000,
        };
        AmqpConnection? connection = null;
        try
        {
            connection = CreateConnection(args.Transport, (ProtocolHeader)args.UserToken, false, _settings!, connectionSettings);
            connection.BeginOpen(AmqpConstants.DefaultTimeout, OnConnectionOpened, connection);
        }
        catch (Exception exception)
        {
            _log.WriteLine($"connection refused: {exception.Message}");
            connection?.SafeClose(exception);
        }
    }

    private void OnConnectionOpened(IAsyncResult result)
    {
        var connection = (AmqpConnection)result.AsyncState!;
        try
        {
            connection.EndOpen(result);
        }
        catch (Exception exception)
        {
            _log.WriteLine($"connection failed to open: {exception.Message}");
            connection.SafeClose(exception);
        }
    }

    private async Task SweepAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(SweepInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                foreach (var queue in _queues.Values)
                {
                    queue.Sweep();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
