using System.Buffers;
using System.Text;
using Azure;

namespace Bridge.TableStorage.Rest;

/// <summary>
/// An entity group transaction being assembled: up to 100 inserts and replaces in one partition, committed
/// atomically by <see cref="TableClient.SubmitTransactionAsync"/>. The multipart body is built as operations are
/// added, so the 4 MiB body limit is checked exactly.
/// </summary>
public sealed class TableTransaction
{
    private readonly ArrayBufferWriter<byte> _body = new(16 * 1024);
    private readonly string _tableUri;
    private readonly int _closingLength;
    private bool _completed;

    internal TableTransaction(string tableUri, string partitionKey)
    {
        _tableUri = tableUri;
        PartitionKey = partitionKey;
        BatchBoundary = "batch_" + Guid.NewGuid().ToString("N");
        ChangesetBoundary = "changeset_" + Guid.NewGuid().ToString("N");
        Append($"--{BatchBoundary}\r\nContent-Type: multipart/mixed; boundary={ChangesetBoundary}\r\n\r\n");
        _closingLength = Closing().Length;
    }

    /// <summary>The partition every operation must belong to.</summary>
    public string PartitionKey { get; }

    /// <summary>The number of operations added.</summary>
    public int Count { get; private set; }

    /// <summary>The size the request body would have if submitted now.</summary>
    public int BodyLength => _body.WrittenCount + (_completed ? 0 : _closingLength);

    internal string BatchBoundary { get; }

    private string ChangesetBoundary { get; }

    /// <summary>
    /// Adds an insert, unless it would take the transaction past 100 operations or 4 MiB, in which case nothing is
    /// added and the result is false.
    /// </summary>
    /// <param name="entity">The entity.</param>
    /// <param name="reserveOperations">Operations to keep free for later additions.</param>
    /// <param name="reserveBytes">Body bytes to keep free for later additions.</param>
    public bool TryAddInsert(TableEntity entity, int reserveOperations = 0, int reserveBytes = 0) =>
        TryAdd("POST", _tableUri, entity, ifMatch: null, reserveOperations, reserveBytes);

    /// <summary>
    /// Adds a replace that succeeds only if the stored entity still has <paramref name="ifMatch"/>; otherwise the
    /// whole transaction fails with 412. Returns false, adding nothing, when it would not fit.
    /// </summary>
    public bool TryAddReplace(TableEntity entity, ETag ifMatch) =>
        TryAdd("PUT", TableClient.EntityUri(_tableUri, entity.PartitionKey, entity.RowKey), entity, ifMatch, 0, 0);

    /// <summary>Closes the body and returns it. No operation can be added afterwards.</summary>
    internal ReadOnlyMemory<byte> CompleteBody()
    {
        if (!_completed)
        {
            Append(Closing());
            _completed = true;
        }

        return _body.WrittenMemory;
    }

    private bool TryAdd(string method, string uri, TableEntity entity, ETag? ifMatch, int reserveOperations, int reserveBytes)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The transaction was already submitted.");
        }

        if (entity.PartitionKey != PartitionKey)
        {
            throw new TableLimitExceededException(
                $"An entity group transaction holds one partition ('{PartitionKey}'); this entity is in '{entity.PartitionKey}'.");
        }

        var header = new StringBuilder(256)
            .Append("--").Append(ChangesetBoundary).Append("\r\n")
            .Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
            .Append(method).Append(' ').Append(uri).Append(" HTTP/1.1\r\n")
            .Append("Content-Type: application/json\r\nAccept: application/json;odata=nometadata\r\n")
            .Append("Prefer: return-no-content\r\nDataServiceVersion: 3.0\r\n");
        if (ifMatch is { } etag)
        {
            header.Append("If-Match: ").Append(etag.ToString()).Append("\r\n");
        }

        header.Append("\r\n");
        var partLength = Encoding.UTF8.GetByteCount(header.ToString()) + entity.Json.Length + 2;

        if (Count + 1 + reserveOperations > TableLimits.MaxTransactionOperations ||
            BodyLength + partLength + reserveBytes > TableLimits.MaxTransactionBodyBytes)
        {
            return false;
        }

        Append(header.ToString());
        _body.Write(entity.Json.Span);
        Append("\r\n");
        Count++;
        return true;
    }

    private string Closing() => $"--{ChangesetBoundary}--\r\n--{BatchBoundary}--\r\n";

    private void Append(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var written = Encoding.UTF8.GetBytes(text, _body.GetSpan(length));
        _body.Advance(written);
    }
}

/// <summary>
/// An entity group transaction was rolled back because one operation failed: <see cref="FailedOperationIndex"/> says
/// which. <see cref="RequestFailedException.Status"/> is 409 for an insert of an existing entity and 412 for a
/// replace whose If-Match no longer matches.
/// </summary>
public sealed class TableTransactionFailedException(int status, string message, string? errorCode, int failedOperationIndex)
    : RequestFailedException(status, message, errorCode, null)
{
    /// <summary>The 0-based index of the operation that failed, or -1 when the service did not say.</summary>
    public int FailedOperationIndex { get; } = failedOperationIndex;
}
