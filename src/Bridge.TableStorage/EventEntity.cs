using Azure;
using Azure.Data.Tables;
using Bridge.Events;

namespace Bridge.TableStorage;

/// <summary>
/// One event's row as <c>Azure.Data.Tables</c> reads it. Reading into a typed entity allocates less than into a
/// dictionary-backed <see cref="TableEntity"/>; rows are written as a <see cref="TableEntity"/> instead, holding only
/// the properties they have (docs/benchmarks.md).
/// </summary>
/// <remarks>See <see cref="EventRows"/> for the layout and the meaning of each property.</remarks>
internal sealed class EventEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The event type; absent for the default type, "message".</summary>
    public string? Type { get; set; }

    /// <summary>The idempotency key, if the event has one.</summary>
    public string? Key { get; set; }

    /// <summary>The data's first 64 KiB (absent for empty data), then the next three chunks when needed.</summary>
    public BinaryData? Data0 { get; set; }

    public BinaryData? Data1 { get; set; }

    public BinaryData? Data2 { get; set; }

    public BinaryData? Data3 { get; set; }

    public DateTimeOffset StoredAt { get; set; }

    /// <summary>The commit token, on the first row of each transaction only.</summary>
    public Guid? Commit { get; set; }
}

/// <summary>A stream's head row: the id of its last committed event, and the epoch that id belongs to.</summary>
internal sealed class HeadEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public long LastId { get; set; }

    /// <summary>The epoch's name; absent on head rows written before epochs existed.</summary>
    public string? Epoch { get; set; }

    /// <summary>The epoch this one replaced in place, if any.</summary>
    public string? ParentEpoch { get; set; }

    /// <summary>The first id that may name a different event than in the parent epoch.</summary>
    public long? ReplacedFrom { get; set; }

    /// <summary>The writers that appended lately, for their turns (<see cref="WriterTurns"/>); read by writers only.</summary>
    public string? Writers { get; set; }

    /// <summary>The head from a row read among event rows, as a dictionary.</summary>
    public static HeadEntity From(TableEntity row) => new()
    {
        PartitionKey = row.PartitionKey,
        RowKey = row.RowKey,
        ETag = row.ETag,
        LastId = row.GetInt64(nameof(LastId)) ?? 0,
        Epoch = row.GetString(nameof(Epoch)),
        ParentEpoch = row.GetString(nameof(ParentEpoch)),
        ReplacedFrom = row.GetInt64(nameof(ReplacedFrom)),
        Writers = row.GetString(nameof(Writers)),
    };

    public StreamHead ToHead() =>
        new(LastId, Epoch is null ? StreamEpoch.None : new StreamEpoch(Epoch, ParentEpoch, ReplacedFrom ?? 1));
}
