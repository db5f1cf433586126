namespace Bridge.Functions;

/// <summary>
/// The app settings the Service Bus trigger reads, besides the options sections every host shares
/// (docs/configuration.md). infra/ sets them, and a test checks that it spells them as here.
/// </summary>
internal static class FunctionsSettings
{
    /// <summary>The namespace to listen to: a connection string, or <c>__fullyQualifiedNamespace</c> with an identity.</summary>
    public const string ServiceBusConnection = "ServiceBusConnection";

    /// <summary>The topic ingested.</summary>
    public const string ServiceBusTopic = "ServiceBusTopic";

    /// <summary>The topic's subscription Bridge reads.</summary>
    public const string ServiceBusSubscription = "ServiceBusSubscription";

    /// <summary>The trigger's topic, resolved from the app setting.</summary>
    public const string TopicFromSettings = "%" + ServiceBusTopic + "%";

    /// <summary>The trigger's subscription, resolved from the app setting.</summary>
    public const string SubscriptionFromSettings = "%" + ServiceBusSubscription + "%";
}
