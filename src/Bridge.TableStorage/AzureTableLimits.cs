using System.Text;
using Azure;
using Azure.Data.Tables;

namespace Bridge.TableStorage;

/// <summary>
/// Azure Table Storage's documented limits, enforced here before a request is sent, because Azurite does not
/// enforce all of them (it accepts a transaction spanning two partitions, an entity over 1 MiB, and more than 252
/// properties) and local runs must not hide requests that Azure would refuse.
/// </summary>
internal static class AzureTableLimits
{
    /// <summary>Operations in one entity group transaction.</summary>
    public const int MaxTransactionOperations = 100;

    /// <summary>Bytes in one entity group transaction's request body (4 MiB).</summary>
    public const int MaxTransactionBodyBytes = 4 * 1024 * 1024;

    /// <summary>The size of one entity (1 MiB), as Azure counts it.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>Bytes in one binary property (64 KiB).</summary>
    public const int MaxBinaryPropertyBytes = 64 * 1024;

    /// <summary>UTF-16 characters in one string property (64 KiB).</summary>
    public const int MaxStringPropertyChars = 32 * 1024;

    /// <summary>UTF-16 characters in a PartitionKey or RowKey (1 KiB).</summary>
    public const int MaxKeyChars = 512;

    /// <summary>Rows returned by one query page.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>
    /// An upper bound of the bytes an operation adds to a transaction's body besides its values: the part's headers
    /// (with the table's URL), the property names and their OData type annotations.
    /// </summary>
    private const int OperationOverheadBytes = 1024;

    /// <summary>An upper bound of one non-string, non-binary value and its name as JSON (a date, a GUID, a number).</summary>
    private const int ScalarPropertyBytes = 128;

    /// <summary>
    /// An upper bound of the body bytes <paramref name="row"/> adds to a transaction, as the SDK serialises it: binary
    /// values as base64, and strings as JSON that may escape every non-ASCII character as <c>\uXXXX</c> (six bytes
    /// for each UTF-16 unit).
    /// </summary>
    public static int EstimateOperationBytes(TableEntity row, int uriLength)
    {
        var bytes = OperationOverheadBytes + (2 * uriLength);
        foreach (var (name, value) in row)
        {
            bytes += (6 * name.Length) + 64 + value switch
            {
                string text => 6 * text.Length,
                BinaryData binary => 4 * ((binary.ToMemory().Length + 2) / 3),
                _ => ScalarPropertyBytes,
            };
        }

        return bytes;
    }

    /// <summary>Checks one row against the property, key and entity limits.</summary>
    /// <exception cref="AzureTableLimitException">The row breaks one; the message names it.</exception>
    public static void CheckRow(TableEntity row)
    {
        CheckKey(nameof(row.PartitionKey), row.PartitionKey);
        CheckKey(nameof(row.RowKey), row.RowKey);
        foreach (var (name, value) in row)
        {
            if (value is string text && text.Length > MaxStringPropertyChars)
            {
                throw new AzureTableLimitException($"Property {name} has {text.Length} characters; a string property holds at most {MaxStringPropertyChars}.");
            }

            if (value is BinaryData binary && binary.ToMemory().Length > MaxBinaryPropertyBytes)
            {
                throw new AzureTableLimitException($"Property {name} holds {binary.ToMemory().Length} bytes; a binary property holds at most {MaxBinaryPropertyBytes}.");
            }
        }

        if (EntityBytes(row) is var size && size > MaxEntityBytes)
        {
            throw new AzureTableLimitException($"The row for {row.PartitionKey}/{row.RowKey} has {size} bytes; an entity has at most {MaxEntityBytes}.");
        }
    }

    /// <summary>
    /// The row's size as Azure counts it against the 1 MiB entity limit: 4 bytes, plus each key's UTF-16 bytes, plus
    /// for each property 8 bytes, its name's UTF-16 bytes and its value (binary: 4 + length; string: 4 + UTF-16 bytes;
    /// Guid 16; DateTime, Int64 and Double 8; Int32 4; Boolean 1).
    /// </summary>
    public static long EntityBytes(TableEntity row)
    {
        long size = 4 + (2 * (row.PartitionKey.Length + row.RowKey.Length));
        foreach (var (name, value) in row)
        {
            if (name is nameof(ITableEntity.PartitionKey) or nameof(ITableEntity.RowKey) or "odata.etag" or nameof(ITableEntity.Timestamp))
            {
                continue;
            }

            size += 8 + (2 * name.Length) + value switch
            {
                string text => 4 + (2 * text.Length),
                BinaryData binary => 4 + binary.ToMemory().Length,
                Guid => 16,
                int => 4,
                bool => 1,
                _ => 8,
            };
        }

        return size;
    }

    private static void CheckKey(string name, string value)
    {
        if (value.Length > MaxKeyChars || value.AsSpan().IndexOfAny("/\\#?") >= 0 || value.AsSpan().ContainsAnyInRange('\0', '\x1f'))
        {
            throw new AzureTableLimitException(
                $"{name} '{value[..Math.Min(value.Length, 64)]}' breaks Table Storage's key rules: at most {MaxKeyChars} characters, none of / \\ # ? or control characters.");
        }
    }
}

/// <summary>
/// An entity group transaction being assembled within Azure's limits: one partition, at most 100 operations, and a
/// body of at most 4 MiB (estimated from above, since the SDK serialises the body only when it is submitted).
/// </summary>
internal sealed class BoundedTransaction(string partitionKey, Uri tableUri)
{
    private readonly int _tableUriLength = Encoding.UTF8.GetByteCount(tableUri.AbsoluteUri);

    public List<TableTransactionAction> Actions { get; } = [];

    /// <summary>The bytes of an empty transaction's body: the batch and changeset boundaries.</summary>
    public const int EmptyBytes = 512;

    /// <summary>The upper bound of the body's size so far.</summary>
    public int EstimatedBytes { get; private set; } = EmptyBytes;

    /// <summary>The bytes an insert of <paramref name="row"/> would add.</summary>
    public int CostOf(TableEntity row) => AzureTableLimits.EstimateOperationBytes(row, _tableUriLength);

    /// <summary>An upper bound of the bytes the head row adds: an operation whose URL also names the row's keys.</summary>
    public int HeadCost => AzureTableLimits.EstimateOperationBytes(
        new TableEntity(partitionKey, EventRows.HeadRowKey)
        {
            [nameof(HeadEntity.LastId)] = 0L,
            [nameof(HeadEntity.Epoch)] = LongestEpoch,
            [nameof(HeadEntity.ParentEpoch)] = LongestEpoch,
            [nameof(HeadEntity.ReplacedFrom)] = 0L,
            [nameof(HeadEntity.Writers)] = new string('x', WriterTurns.MaxListLength),
        },
        2 * _tableUriLength);

    private static readonly string LongestEpoch = new('x', Events.StreamEpoch.MaxIdLength);

    /// <summary>
    /// Adds an insert of <paramref name="row"/> unless the transaction would then exceed its limits with
    /// <paramref name="reserveOperations"/> operations and <paramref name="reserveBytes"/> bytes still to come; then
    /// nothing is added and the result is false.
    /// </summary>
    /// <exception cref="AzureTableLimitException">The row is in another partition or breaks an entity limit.</exception>
    public bool TryAddInsert(TableEntity row, int reserveOperations, int reserveBytes)
    {
        CheckPartition(row);
        AzureTableLimits.CheckRow(row);
        var cost = CostOf(row);
        if (Actions.Count + 1 + reserveOperations > AzureTableLimits.MaxTransactionOperations ||
            EstimatedBytes + cost + reserveBytes > AzureTableLimits.MaxTransactionBodyBytes)
        {
            return false;
        }

        Actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
        EstimatedBytes += cost;
        return true;
    }

    /// <summary>
    /// Adds the head row: a replace conditional on <paramref name="ifMatch"/>, or an insert when the stream has none.
    /// Returns its index. Room for it must have been reserved.
    /// </summary>
    public int AddHead(HeadEntity head, ETag? ifMatch)
    {
        CheckPartition(head);
        Actions.Add(ifMatch is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, head, etag)
            : new TableTransactionAction(TableTransactionActionType.Add, head));
        return Actions.Count - 1;
    }

    private void CheckPartition(ITableEntity entity)
    {
        if (entity.PartitionKey != partitionKey)
        {
            throw new AzureTableLimitException(
                $"An entity group transaction holds one partition ('{partitionKey}'); this entity is in '{entity.PartitionKey}'.");
        }
    }
}

/// <summary>A request would break one of Azure Table Storage's limits, so it was not sent. The message names the limit.</summary>
internal sealed class AzureTableLimitException(string message) : ArgumentException(message);
