using System.ComponentModel.DataAnnotations;

namespace Bridge.TableStorage;

/// <summary>Settings of the Table Storage event log, bound from the <c>Storage</c> section.</summary>
public sealed class TableEventLogOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Storage";

    /// <summary>The table that holds every stream's events (<c>Storage__EventsTable</c>). Created on first use.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Storage:EventsTable must be 3-63 letters and digits, starting with a letter.")]
    public string EventsTable { get; set; } = "BridgeEvents";

    /// <summary>
    /// How many of a stream's most recent events are checked for a repeated idempotency key
    /// (<c>Storage__IdempotencyWindowEvents</c>). A duplicate is recognised when its original is among the last this many
    /// events of the same stream. The keys are stored in the event rows, so the window survives restarts.
    /// </summary>
    [Range(100, 10_000_000)]
    public int IdempotencyWindowEvents { get; set; } = 100_000;

    /// <summary>
    /// Minutes after which a stream's writer state (its head ETag and key window) is dropped from memory when nothing
    /// was appended to it (<c>Storage__WriterIdleMinutes</c>). The next append reloads it from storage.
    /// </summary>
    [Range(1, 1440)]
    public int WriterIdleMinutes { get; set; } = 10;

    /// <summary>
    /// The longest anyone waits on storage, in seconds (<c>Storage__OperationTimeoutSeconds</c>): a publish's append, a
    /// read of a stream's head, a page of a replay, the health check. Past it the caller is told storage is unavailable
    /// (a publish gets <c>503</c> with <c>Retry-After</c>, a new subscriber the answer that makes it retry, a tail's
    /// poll is retried at the next interval), however long storage stays silent. An append that timed out may still
    /// be stored afterwards: a retry with the same idempotency keys is recognised.
    /// </summary>
    [Range(1, 300)]
    public int OperationTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds to wait for one storage request before retrying it (<c>Storage__NetworkTimeoutSeconds</c>).</summary>
    [Range(1, 300)]
    public int NetworkTimeoutSeconds { get; set; } = 30;

    /// <summary>Retries of a failed storage request, with exponential back-off (<c>Storage__MaxRetries</c>).</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;
}
