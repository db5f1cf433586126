using System.Globalization;
using System.Text.Json;
using Bridge.Events;
using Bridge.TableStorage.Rest;

namespace Bridge.TableStorage;

/// <summary>
/// How a stream is laid out in the events table. Each stream is one partition (PartitionKey = stream name) holding:
/// <list type="bullet">
/// <item>one row per event, RowKey = the id as 19 digits so rows sort in id order, with <c>Type</c> (left out for
/// "message"), <c>Key</c> (the idempotency key, if any), <c>Data0</c>…<c>Data3</c> (the data, split into 64 KiB binary
/// properties), <c>StoredAt</c>, and on the first row of each transaction a <c>Commit</c> token;</item>
/// <item>one head row, RowKey = <c>head</c>, holding <c>LastId</c>. Every append rewrites it in the same transaction as
/// the new events, with If-Match on its ETag: that is what keeps ids gap-free and in commit order across writers.</item>
/// </list>
/// </summary>
internal static class EventRows
{
    public const string HeadRowKey = "head";

    private const string TypeProperty = "Type";
    private const string KeyProperty = "Key";
    private const string StoredAtProperty = "StoredAt";
    private const string CommitProperty = "Commit";
    private const string LastIdProperty = "LastId";

    private static readonly string[] DataProperties = ["Data0", "Data1", "Data2", "Data3"];

    /// <summary>The properties a writer needs to rebuild its idempotency window and recognise its own commits.</summary>
    public static readonly string[] KeyProjection = ["RowKey", KeyProperty, CommitProperty];

    static EventRows()
    {
        // The data properties must hold the largest event data.
        System.Diagnostics.Debug.Assert(DataProperties.Length * TableLimits.MaxBinaryPropertyBytes >= EventData.MaxBytes);
    }

    public static string RowKey(long id) => id.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>The filter for the event rows with ids in (<paramref name="afterId"/>, <paramref name="throughId"/>].</summary>
    public static string RangeFilter(StreamName stream, long afterId, long throughId) =>
        $"PartitionKey eq {TableClient.Quote(stream.Value)} and RowKey gt '{RowKey(afterId)}' and RowKey le '{RowKey(throughId)}'";

    public static TableEntity EncodeEvent(StreamName stream, long id, NewEvent newEvent, DateTimeOffset storedAt, Guid? commit)
    {
        var writer = new TableEntityWriter(stream.Value, RowKey(id));
        if (!newEvent.Type.IsMessage)
        {
            writer.WriteString(TypeProperty, newEvent.Type.Value);
        }

        if (newEvent.IdempotencyKey is { } key)
        {
            writer.WriteString(KeyProperty, key.Value);
        }

        var data = newEvent.Data.Span;
        for (var chunk = 0; !data.IsEmpty; chunk++)
        {
            var length = Math.Min(data.Length, TableLimits.MaxBinaryPropertyBytes);
            writer.WriteBinary(DataProperties[chunk], data[..length]);
            data = data[length..];
        }

        writer.WriteDateTime(StoredAtProperty, storedAt);
        if (commit is { } token)
        {
            writer.WriteGuid(CommitProperty, token);
        }

        return writer.ToEntity();
    }

    public static TableEntity EncodeHead(StreamName stream, long lastId) =>
        new TableEntityWriter(stream.Value, HeadRowKey).WriteInt64(LastIdProperty, lastId).ToEntity();

    public static long DecodeHead(JsonElement row) =>
        long.Parse(row.GetProperty(LastIdProperty).GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);

    public static StoredEvent DecodeEvent(JsonElement row)
    {
        var type = row.TryGetProperty(TypeProperty, out var typeElement) ? typeElement.GetString() : null;
        var key = row.TryGetProperty(KeyProperty, out var keyElement) ? keyElement.GetString() : null;
        return new StoredEvent(
            IdOf(row),
            EventType.FromStorage(type),
            DecodeData(row),
            row.GetProperty(StoredAtProperty).GetDateTimeOffset(),
            key);
    }

    /// <summary>Decodes a row read with <see cref="KeyProjection"/>.</summary>
    public static (long Id, string? Key, Guid? Commit) DecodeKey(JsonElement row) => (
        IdOf(row),
        row.TryGetProperty(KeyProperty, out var key) ? key.GetString() : null,
        row.TryGetProperty(CommitProperty, out var commit) ? commit.GetGuid() : null);

    private static long IdOf(JsonElement row) =>
        long.Parse(row.GetProperty("RowKey").GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);

    private static ReadOnlyMemory<byte> DecodeData(JsonElement row)
    {
        if (!row.TryGetProperty(DataProperties[0], out var first))
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var firstChunk = first.GetBytesFromBase64();
        if (!row.TryGetProperty(DataProperties[1], out _))
        {
            return firstChunk;
        }

        using var buffer = new MemoryStream(EventData.MaxBytes);
        buffer.Write(firstChunk);
        for (var chunk = 1; chunk < DataProperties.Length && row.TryGetProperty(DataProperties[chunk], out var element); chunk++)
        {
            buffer.Write(element.GetBytesFromBase64());
        }

        return buffer.ToArray();
    }
}
