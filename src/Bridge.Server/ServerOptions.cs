namespace Bridge.Server;

/// <summary>Settings of the standalone server's web host, bound from the <c>Server</c> section.</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Server";

    /// <summary>
    /// Run response code on Kestrel's socket threads instead of handing each continuation to the thread pool
    /// (<c>Server__InlineScheduling</c>, Kestrel's <c>UnsafePreferInlineScheduling</c>). Fanning an event out to
    /// thousands of connections then costs one thread hop less per connection; on the benchmark machine it cut the
    /// 99th-percentile delivery time at 10,000 connections by about a third (docs/benchmarks.md). It is safe because
    /// nothing in Bridge's request handling blocks a thread; turn it off if you add middleware that does.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;
}
