namespace Bridge.DevKit;

/// <summary>
/// Per-client limits raised for servers that tests and benchmarks drive: there, one loopback client stands in for
/// many users, and a measurement of replay or fan-out must not trip over the publish rate or the per-client stream
/// count. Tests of those limits set them explicitly, which overrides these.
/// </summary>
public static class LoadGeneratorLimits
{
    /// <summary>The settings, in <c>Section:Key</c> form.</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Limits:MaxSubscribersPerClient"] = "1000000",
        ["Limits:PublishRequestsPerSecond"] = "1000000",
        ["Limits:PublishBurst"] = "1000000",
    };
}
