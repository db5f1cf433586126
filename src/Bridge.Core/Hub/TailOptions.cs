using System.ComponentModel.DataAnnotations;

namespace Bridge.Hub;

/// <summary>Settings of the per-stream tails that feed live subscribers, bound from the <c>Tail</c> section.</summary>
public sealed class TailOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Tail";

    /// <summary>
    /// How often each active stream's tail reads the stream's head from storage to find events committed by other
    /// processes, in milliseconds (<c>Tail__PollIntervalMilliseconds</c>). One read per interval per stream per
    /// process, whatever the number of clients. Events committed in this process are delivered at once.
    /// </summary>
    [Range(50, 60_000)]
    public int PollIntervalMilliseconds { get; set; } = 1_000;

    /// <summary>
    /// Bytes of recent encoded events each tail keeps in memory, so that clients reconnecting a little behind catch up
    /// without reading storage (<c>Tail__RecentEventsBytes</c>).
    /// </summary>
    [Range(0, 256 * 1024 * 1024)]
    public int RecentEventsBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Seconds a tail stays up after its last subscriber leaves, to serve reconnecting clients
    /// (<c>Tail__IdleSeconds</c>).
    /// </summary>
    [Range(0, 3_600)]
    public int IdleSeconds { get; set; } = 30;
}
