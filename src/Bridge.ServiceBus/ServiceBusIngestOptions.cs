using System.ComponentModel.DataAnnotations;

namespace Bridge.ServiceBus;

/// <summary>How the standalone server receives from the subscription, bound from the <c>ServiceBusIngest</c> section.</summary>
public sealed class ServiceBusIngestOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "ServiceBusIngest";

    /// <summary>
    /// Whether the subscription requires sessions (<c>ServiceBusIngest__Sessions</c>). With sessions, each receiver holds
    /// one session (one stream) at a time, so a stream's messages are stored in publish order even with several
    /// receivers and servers; without, receivers compete and order holds only within a batch.
    /// </summary>
    public bool Sessions { get; set; }

    /// <summary>Receive loops per server (<c>ServiceBusIngest__Receivers</c>): without sessions they compete for messages; with sessions each holds a session.</summary>
    [Range(1, 64)]
    public int Receivers { get; set; } = 2;

    /// <summary>The most messages taken in one receive and stored as one batch (<c>ServiceBusIngest__BatchSize</c>).</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 250;

    /// <summary>Messages each receiver fetches ahead of the batch it is storing (<c>ServiceBusIngest__PrefetchCount</c>); 0 fetches only on demand.</summary>
    [Range(0, 10000)]
    public int PrefetchCount { get; set; } = 500;

    /// <summary>How long a receive waits for its first message (<c>ServiceBusIngest__MaxWaitMilliseconds</c>); a session with nothing more for this long is released.</summary>
    [Range(10, 60000)]
    public int MaxWaitMilliseconds { get; set; } = 1000;

    /// <summary>The first pause after storage fails, doubled on each failure in a row (<c>ServiceBusIngest__RetryDelayMilliseconds</c>).</summary>
    [Range(10, 60000)]
    public int RetryDelayMilliseconds { get; set; } = 500;

    /// <summary>The longest pause after failures in a row (<c>ServiceBusIngest__MaxRetryDelaySeconds</c>).</summary>
    [Range(1, 600)]
    public int MaxRetryDelaySeconds { get; set; } = 30;
}
