namespace Bridge.ServiceBus;

/// <summary>
/// The app settings that name what Bridge ingests, spelled as the Functions trigger reads them, so one set of settings
/// serves both hosts (docs/configuration.md).
/// </summary>
public static class ServiceBusSettings
{
    /// <summary>The namespace: a connection string, or <c>ServiceBusConnection__fullyQualifiedNamespace</c> with an identity.</summary>
    public const string Connection = "ServiceBusConnection";

    /// <summary>The topic ingested.</summary>
    public const string Topic = "ServiceBusTopic";

    /// <summary>The topic's subscription Bridge reads.</summary>
    public const string Subscription = "ServiceBusSubscription";

    /// <summary>The message's application property that names the stream (else its session id).</summary>
    public const string StreamProperty = "stream";
}
