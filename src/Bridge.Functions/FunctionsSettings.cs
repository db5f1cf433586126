using Bridge.ServiceBus;

namespace Bridge.Functions;

/// <summary>
/// How the Service Bus trigger finds its topic and subscription: from the app settings both hosts share
/// (<see cref="ServiceBusSettings"/>, docs/configuration.md). infra/ sets them, and a test checks that it spells them as here.
/// </summary>
internal static class FunctionsSettings
{
    /// <summary>The trigger's topic, resolved from the app setting.</summary>
    public const string TopicFromSettings = "%" + ServiceBusSettings.Topic + "%";

    /// <summary>The trigger's subscription, resolved from the app setting.</summary>
    public const string SubscriptionFromSettings = "%" + ServiceBusSettings.Subscription + "%";

    /// <summary>The app setting that turns a function off; one of the two ingest functions is always off.</summary>
    public static string Disabled(string function) => $"AzureWebJobs.{function}.Disabled";
}
