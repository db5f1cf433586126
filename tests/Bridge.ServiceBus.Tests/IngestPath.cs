using Azure.Messaging.ServiceBus;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.ServiceBus.Tests;

/// <summary>
/// One test's whole path: a local Service Bus endpoint with the topic <see cref="Topic"/> and its subscriptions, a
/// producer on it, and server processes that ingest from <see cref="Subscription"/> into the shared Azurite.
/// </summary>
internal sealed class IngestPath : IAsyncDisposable
{
    public const string Topic = "events";
    public const string Subscription = "bridge";

    private readonly List<BridgeServerProcess> _servers = [];

    private IngestPath(LocalServiceBusProcess endpoint, AzuriteProcess azurite)
    {
        Endpoint = endpoint;
        Azurite = azurite;
        Client = new ServiceBusClient(endpoint.ConnectionString);
        Producer = Client.CreateSender(Topic);
    }

    public LocalServiceBusProcess Endpoint { get; }

    public AzuriteProcess Azurite { get; }

    public ServiceBusClient Client { get; }

    public ServiceBusSender Producer { get; }

    public static async Task<IngestPath> StartAsync(SubscriptionConfig? subscription = null, bool duplicateDetection = true) =>
        new(
            await LocalServiceBusProcess.StartAsync(LocalServiceBusConfig.Write(new TopicConfig(Topic, [subscription ?? new SubscriptionConfig(Subscription)], duplicateDetection))),
            await AzuriteProcess.Shared);

    /// <summary>Starts a server that ingests from the subscription; <paramref name="settings"/> are environment variables.</summary>
    public async Task<BridgeServerProcess> StartServerAsync(IDictionary<string, string>? settings = null, int? storagePort = null)
    {
        var all = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = AzuriteProcess.ConnectionStringFor(storagePort ?? Azurite.Port),
            ["ServiceBusConnection"] = Endpoint.ConnectionString,
            ["ServiceBusTopic"] = Topic,
            ["ServiceBusSubscription"] = Subscription,
            ["ServiceBusIngest__MaxWaitMilliseconds"] = "200",
            ["ServiceBusIngest__RetryDelayMilliseconds"] = "100",
            ["ServiceBusIngest__MaxRetryDelaySeconds"] = "1",
            ["Logging__LogLevel__Bridge"] = "Information",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var server = await BridgeServerProcess.StartAsync(all);
        _servers.Add(server);
        return server;
    }

    /// <summary>Reads a stream from its first event, reconnecting as a browser does, until <paramref name="count"/> events arrived.</summary>
    public static async Task<List<SseEvent>> ReadStreamAsync(BridgeServerProcess server, string stream, int count, int seconds = 60)
    {
        var reader = new ReconnectingSseClient(server.Client, $"/api/streams/{stream}/events?lastEventId=0");
        await reader.RunAsync(r => r.Events.Count >= count, Waits.Within(seconds));
        return reader.Events;
    }

    /// <summary>Every message in the subscription's dead-letter queue, waiting up to <paramref name="expected"/> of them.</summary>
    public async Task<List<ServiceBusReceivedMessage>> DeadLettersAsync(int expected, TimeSpan wait)
    {
        var receiver = Client.CreateReceiver(Topic, Subscription, new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter, ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        var dead = new List<ServiceBusReceivedMessage>();
        var deadline = DateTime.UtcNow + wait;
        while (dead.Count < expected && DateTime.UtcNow < deadline)
        {
            dead.AddRange(await receiver.ReceiveMessagesAsync(expected - dead.Count, TimeSpan.FromMilliseconds(500)));
        }

        return dead;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        await Client.DisposeAsync();
        await Endpoint.DisposeAsync();
    }
}
