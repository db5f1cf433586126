using System.Globalization;
using Azure.Data.Tables;
using Bridge.Events;

namespace Bridge.TableStorage;

/// <summary>
/// How a stream is laid out in the events table. Each stream is one partition (PartitionKey = stream name) holding:
/// <list type="bullet">
/// <item>one row per event (<see cref="EventEntity"/>), RowKey = the id as 19 digits so rows sort in id order, with
/// <c>Type</c> (left out for "message"), <c>Key</c> (the idempotency key, if any), <c>Data0</c>…<c>Data3</c> (the
/// data, split into 64 KiB binary properties), <c>StoredAt</c>, and on the first row of each transaction a
/// <c>Commit</c> token;</item>
/// <item>one head row (<see cref="HeadEntity"/>), RowKey = <c>head</c>, holding <c>LastId</c> and the stream's epoch
/// (<c>Epoch</c>, and for an epoch that replaced another in place <c>ParentEpoch</c> and <c>ReplacedFrom</c>), and
/// the writers that appended lately (<c>Writers</c>, <see cref="WriterTurns"/>). Every
/// append rewrites it in the same transaction as the new events, with If-Match on its ETag: that is what keeps ids
/// gap-free and in commit order across writers.</item>
/// <item>once retention has pruned the stream, one <c>pruned</c> row whose <c>Through</c> is the highest id it may
/// have removed (<see cref="Retention.StreamPruner"/>).</item>
/// </list>
/// </summary>
internal static class EventRows
{
    public const string HeadRowKey = "head";

    /// <summary>The row that records how far retention has pruned the stream (<see cref="Retention.StreamPruner"/>).</summary>
    public const string PrunedRowKey = "pruned";

    /// <summary>The pruned row's property: the highest id retention may have removed.</summary>
    public const string PrunedThroughProperty = "Through";

    /// <summary>What a writer reads to rebuild its idempotency window and recognise its own commits.</summary>
    public static readonly string[] KeyProjection = [nameof(EventEntity.RowKey), nameof(EventEntity.Key), nameof(EventEntity.Commit)];

    /// <summary>The data's properties, 64 KiB each: four hold the largest event data.</summary>
    private static readonly string[] DataProperties =
        [nameof(EventEntity.Data0), nameof(EventEntity.Data1), nameof(EventEntity.Data2), nameof(EventEntity.Data3)];

    /// <summary>What a reader of the head needs.</summary>
    public static readonly string[] HeadProjection =
        [nameof(HeadEntity.LastId), nameof(HeadEntity.Epoch), nameof(HeadEntity.ParentEpoch), nameof(HeadEntity.ReplacedFrom)];

    /// <summary>What a writer reads of the head: also the rival writers it must take turns with.</summary>
    public static readonly string[] WriterHeadProjection = [.. HeadProjection, nameof(HeadEntity.Writers)];

    /// <summary>What a writer catching up reads: the new rows' keys, then the head.</summary>
    public static readonly string[] CatchUpProjection = [.. KeyProjection, .. WriterHeadProjection];

    public static string RowKey(long id) => id.ToString("D19", CultureInfo.InvariantCulture);

    public static long IdOf(EventEntity row) => IdOf(row.RowKey);

    public static long IdOf(string rowKey) => long.Parse(rowKey, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The filter for the event rows with ids in (<paramref name="afterId"/>, <paramref name="throughId"/>].</summary>
    public static string RangeFilter(StreamName stream, long afterId, long throughId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {stream.Value} and RowKey gt {RowKey(afterId)} and RowKey le {RowKey(throughId)}");

    /// <summary>The filter for every row after <paramref name="afterId"/>: the later events, then the head.</summary>
    public static string AfterFilter(StreamName stream, long afterId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {stream.Value} and RowKey gt {RowKey(afterId)} and RowKey le {HeadRowKey}");

    /// <summary>
    /// The row for <paramref name="newEvent"/>, with only the properties it has: the SDK writes every property of a
    /// typed entity, nulls included, so a dictionary-backed entity keeps the request smaller. The data is not copied:
    /// each chunk is a slice of the event's memory.
    /// </summary>
    public static TableEntity Encode(StreamName stream, long id, NewEvent newEvent, DateTimeOffset storedAt, Guid? commit)
    {
        var row = new TableEntity(stream.Value, RowKey(id));
        if (!newEvent.Type.IsMessage)
        {
            row[nameof(EventEntity.Type)] = newEvent.Type.Value;
        }

        if (newEvent.IdempotencyKey is { } key)
        {
            row[nameof(EventEntity.Key)] = key.Value;
        }

        var data = newEvent.Data;
        for (var chunk = 0; !data.IsEmpty; chunk++)
        {
            var length = Math.Min(data.Length, AzureTableLimits.MaxBinaryPropertyBytes);
            row[DataProperties[chunk]] = new BinaryData(data[..length]);
            data = data[length..];
        }

        row[nameof(EventEntity.StoredAt)] = storedAt;
        if (commit is { } token)
        {
            row[nameof(EventEntity.Commit)] = token;
        }

        return row;
    }

    public static HeadEntity Head(StreamName stream, long lastId, StreamEpoch epoch, string writers) => new()
    {
        Writers = writers,
        PartitionKey = stream.Value,
        RowKey = HeadRowKey,
        LastId = lastId,
        Epoch = epoch.Id.Length > 0 ? epoch.Id : null,
        ParentEpoch = epoch.ParentId,
        ReplacedFrom = epoch.ParentId is null ? null : epoch.ReplacedFrom,
    };

    public static StoredEvent Decode(EventEntity row) => new(
        IdOf(row),
        EventType.FromStorage(row.Type),
        JoinChunks(row),
        row.StoredAt,
        row.Key);

    private static ReadOnlyMemory<byte> JoinChunks(EventEntity row)
    {
        if (row.Data0 is not { } first)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (row.Data1 is null)
        {
            return first.ToMemory();
        }

        BinaryData[] chunks = [first, .. new[] { row.Data1, row.Data2, row.Data3 }.TakeWhile(chunk => chunk is not null).Select(chunk => chunk!)];
        var joined = new byte[chunks.Sum(chunk => chunk.ToMemory().Length)];
        var offset = 0;
        foreach (var chunk in chunks)
        {
            chunk.ToMemory().CopyTo(joined.AsMemory(offset));
            offset += chunk.ToMemory().Length;
        }

        return joined;
    }
}
