using Azure.Messaging.ServiceBus;
using Bridge.DevKit;

namespace Bridge.LocalServiceBus.Tests;

/// <summary>
/// One endpoint process for the whole assembly, with a topic per test so that no test sees another's messages. Locks
/// and time-to-live are short where a test waits for them to run out.
/// </summary>
internal static class ConformanceEndpoint
{
    private static readonly Lazy<Task<LocalServiceBusProcess>> Shared = new(() => LocalServiceBusProcess.StartAsync(WriteTopology()));

    public static async Task<ServiceBusClient> ClientAsync(int maxRetries = 0, int tryTimeoutSeconds = 10) =>
        new((await Shared.Value).ConnectionString, new ServiceBusClientOptions
        {
            // Failures surface at once with their reason, instead of after the SDK's retries.
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = maxRetries, TryTimeout = TimeSpan.FromSeconds(tryTimeoutSeconds), Delay = TimeSpan.FromMilliseconds(100) },
        });

    public static async Task<int> PortAsync() => (await Shared.Value).Port;

    private static string WriteTopology() => LocalServiceBusConfig.Write(
        Topic("fan-out", new SubscriptionConfig("first"), new SubscriptionConfig("second")),
        Topic("batches", new SubscriptionConfig("all")),
        Topic("settlement", new SubscriptionConfig("all")),
        Topic("dead-letters", new SubscriptionConfig("all")),
        Topic("expiring-locks", new SubscriptionConfig("all", LockDuration: "PT1S")),
        Topic("renewed-locks", new SubscriptionConfig("all", LockDuration: "PT4S")),
        Topic("poison", new SubscriptionConfig("all", MaxDeliveryCount: 2)),
        Topic("duplicates", new SubscriptionConfig("all")),
        Topic("time-to-live", new SubscriptionConfig("kept"), new SubscriptionConfig("dead-lettered", DeadLetteringOnMessageExpiration: true)),
        Topic("competing", new SubscriptionConfig("all")),
        Topic("processor", new SubscriptionConfig("all")),
        Topic("receive-and-delete", new SubscriptionConfig("all")),
        Topic("sessions", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("session-locks", new SubscriptionConfig("ordered", LockDuration: "PT1S", RequiresSession: true)),
        Topic("session-state", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("session-less", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("session-processor", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("no-sessions", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("empty-sessions", new SubscriptionConfig("ordered", RequiresSession: true)),
        Topic("peek", new SubscriptionConfig("all")),
        Topic("limits", new SubscriptionConfig("all")),
        Topic("javascript", new SubscriptionConfig("all")));

    private static TopicConfig Topic(string name, params SubscriptionConfig[] subscriptions) => new(name, subscriptions);
}
