using System.ComponentModel.DataAnnotations;

namespace Bridge.Http.Admission;

/// <summary>
/// Limits that protect a process from any one client, bound from the <c>Limits</c> section. (The same section's name
/// and type lengths are the engine's: <see cref="Bridge.Events.EventRulesOptions"/>.)
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Limits";

    /// <summary><c>Limits__MaxSubscribers</c>: SSE responses open at once in this process; beyond it, 503 with Retry-After.</summary>
    [Range(1, 10_000_000)]
    public int MaxSubscribers { get; set; } = 20_000;

    /// <summary>
    /// <c>Limits__MaxSubscribersPerClient</c>: SSE responses open at once for one client address; beyond it, 429. High
    /// by default because hundreds of browsers share one address behind a corporate or carrier-grade NAT; it guards
    /// the process against one runaway client, not a user against themselves.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxSubscribersPerClient { get; set; } = 2_000;

    /// <summary>
    /// <c>Limits__MaxStreamsPerSubscription</c>: streams one multi-stream subscription (<c>GET /api/events</c>) may name;
    /// beyond it, 400. Each stream adds up to 37 characters to every event id of the response (docs/api.md), and its
    /// tail to the streams this process follows.
    /// </summary>
    [Range(1, 100)]
    public int MaxStreamsPerSubscription { get; set; } = 20;

    /// <summary>
    /// <c>Limits__TrustForwardedFor</c>: take the client's address from the last <c>X-Forwarded-For</c> entry. Set it
    /// only when the standalone server sits behind a proxy that appends that header; otherwise clients could claim any
    /// address. Leave it off on Azure Functions, whose worker already resolves the header into the remote address.
    /// </summary>
    public bool TrustForwardedFor { get; set; }

    /// <summary>
    /// <c>Limits__PublishRequestsPerSecond</c>: publish requests each token (or, in Open mode, each address) may make
    /// per second. Publishers are mostly backends, so the default lets one publish several thousand single events a
    /// second; lower it where browsers hold publish tokens.
    /// </summary>
    [Range(1, 1_000_000)]
    public int PublishRequestsPerSecond { get; set; } = 5_000;

    /// <summary><c>Limits__PublishBurst</c>: publish requests a token may make at once before the rate applies.</summary>
    [Range(1, 1_000_000)]
    public int PublishBurst { get; set; } = 5_000;

    /// <summary>
    /// <c>Limits__RetryAfterSeconds</c>: the Retry-After sent when a subscriber is turned away (503, 429) and when
    /// storage is unavailable (503).
    /// </summary>
    [Range(1, 3_600)]
    public int RetryAfterSeconds { get; set; } = 5;
}
