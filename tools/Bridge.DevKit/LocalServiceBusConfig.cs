using System.Text.Json;

namespace Bridge.DevKit;

/// <summary>A topic for <see cref="LocalServiceBusConfig"/>, with its subscriptions.</summary>
public sealed record TopicConfig(string Name, IReadOnlyList<SubscriptionConfig> Subscriptions, bool RequiresDuplicateDetection = true);

/// <summary>A subscription for <see cref="LocalServiceBusConfig"/>; durations in ISO 8601 (<c>PT30S</c>).</summary>
public sealed record SubscriptionConfig(
    string Name,
    string LockDuration = "PT30S",
    int MaxDeliveryCount = 10,
    bool RequiresSession = false,
    bool DeadLetteringOnMessageExpiration = false);

/// <summary>Writes a topology in the shape of Microsoft's Service Bus emulator <c>Config.json</c>, for <see cref="LocalServiceBusProcess"/>.</summary>
public static class LocalServiceBusConfig
{
    /// <summary>Writes the topics to a new temporary file and returns its path.</summary>
    public static string Write(params TopicConfig[] topics)
    {
        var config = new
        {
            UserConfig = new
            {
                Namespaces = new[]
                {
                    new
                    {
                        Name = "local",
                        Queues = Array.Empty<object>(),
                        Topics = topics.Select(topic => new
                        {
                            topic.Name,
                            Properties = new { topic.RequiresDuplicateDetection, DuplicateDetectionHistoryTimeWindow = "PT10M", DefaultMessageTimeToLive = "PT1H" },
                            Subscriptions = topic.Subscriptions.Select(subscription => new
                            {
                                subscription.Name,
                                Properties = new
                                {
                                    subscription.LockDuration,
                                    subscription.MaxDeliveryCount,
                                    subscription.RequiresSession,
                                    subscription.DeadLetteringOnMessageExpiration,
                                    DefaultMessageTimeToLive = "PT1H",
                                },
                            }),
                        }),
                    },
                },
            },
        };
        var path = Path.Combine(Path.GetTempPath(), $"bridge-service-bus-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }
}
