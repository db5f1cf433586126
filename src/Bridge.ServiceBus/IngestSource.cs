using Microsoft.Extensions.Configuration;

namespace Bridge.ServiceBus;

/// <summary>
/// What to ingest: whether <c>ServiceBusConnection</c> is set at all, and the topic and subscription from
/// <c>ServiceBusTopic</c> and <c>ServiceBusSubscription</c>. Read when first needed, so every configuration source
/// added while the host is built counts.
/// </summary>
internal sealed record IngestSource(bool Enabled, string Topic, string Subscription)
{
    public static IngestSource From(IConfiguration configuration) => new(
        ServiceBusConnection.IsConfigured(configuration),
        configuration[ServiceBusSettings.Topic] ?? string.Empty,
        configuration[ServiceBusSettings.Subscription] ?? string.Empty);

    public override string ToString() => $"{Topic}/Subscriptions/{Subscription}";
}
