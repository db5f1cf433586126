using System.Text.Json;
using System.Xml;

namespace Bridge.LocalServiceBus;

/// <summary>
/// The entities to serve, read from a file in the shape of Microsoft's Service Bus emulator <c>Config.json</c>
/// (<c>UserConfig.Namespaces[].Topics[].Subscriptions[]</c>, each with <c>Properties</c>), so that the same file
/// works with that emulator. Durations are ISO 8601 (<c>PT1M</c>).
/// </summary>
internal sealed record Topology(string Namespace, IReadOnlyList<TopicSettings> Topics)
{
    public static Topology Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var namespaces = document.RootElement.GetProperty("UserConfig").GetProperty("Namespaces");
        if (namespaces.GetArrayLength() != 1)
        {
            throw new InvalidDataException($"{path}: one namespace is served; the file has {namespaces.GetArrayLength()}.");
        }

        var ns = namespaces[0];
        if (ns.TryGetProperty("Queues", out var queues) && queues.GetArrayLength() > 0)
        {
            throw new InvalidDataException($"{path}: queues are not served here, only topics and their subscriptions (see tools/Bridge.LocalServiceBus/README.md).");
        }

        var topics = ns.TryGetProperty("Topics", out var list) ? list.EnumerateArray().Select(TopicSettings.From).ToList() : [];
        return new Topology(ns.GetProperty("Name").GetString()!, topics);
    }

    internal static TimeSpan Duration(JsonElement properties, string name, TimeSpan fallback) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } text
            ? XmlConvert.ToTimeSpan(text)
            : fallback;

    internal static T Value<T>(JsonElement properties, string name, T fallback) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value) ? value.Deserialize<T>()! : fallback;
}

/// <summary>A topic: where producers send, with duplicate detection and a default time to live.</summary>
internal sealed record TopicSettings(
    string Name,
    bool RequiresDuplicateDetection,
    TimeSpan DuplicateDetectionHistoryTimeWindow,
    TimeSpan DefaultMessageTimeToLive,
    IReadOnlyList<SubscriptionSettings> Subscriptions)
{
    public static TopicSettings From(JsonElement topic)
    {
        var properties = topic.TryGetProperty("Properties", out var p) ? p : default;
        return new TopicSettings(
            topic.GetProperty("Name").GetString()!,
            Topology.Value(properties, "RequiresDuplicateDetection", false),
            Topology.Duration(properties, "DuplicateDetectionHistoryTimeWindow", TimeSpan.FromMinutes(10)),
            Topology.Duration(properties, "DefaultMessageTimeToLive", TimeSpan.FromDays(14)),
            topic.TryGetProperty("Subscriptions", out var subscriptions) ? [.. subscriptions.EnumerateArray().Select(SubscriptionSettings.From)] : []);
    }
}

/// <summary>A topic's subscription: a copy of every message, received with peek-lock.</summary>
internal sealed record SubscriptionSettings(
    string Name,
    TimeSpan LockDuration,
    int MaxDeliveryCount,
    bool RequiresSession,
    bool DeadLetteringOnMessageExpiration,
    TimeSpan DefaultMessageTimeToLive)
{
    public static SubscriptionSettings From(JsonElement subscription)
    {
        var properties = subscription.TryGetProperty("Properties", out var p) ? p : default;
        return new SubscriptionSettings(
            subscription.GetProperty("Name").GetString()!,
            Topology.Duration(properties, "LockDuration", TimeSpan.FromMinutes(1)),
            Topology.Value(properties, "MaxDeliveryCount", 10),
            Topology.Value(properties, "RequiresSession", false),
            Topology.Value(properties, "DeadLetteringOnMessageExpiration", false),
            Topology.Duration(properties, "DefaultMessageTimeToLive", TimeSpan.FromDays(14)));
    }
}
