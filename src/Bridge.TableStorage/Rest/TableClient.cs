using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Bridge.TableStorage.Rest;

/// <summary>
/// A client for one table of the Azure Table service, speaking its REST API through Azure.Core's
/// <see cref="HttpPipeline"/>, which supplies retries, logging, distributed tracing and cancellation.
/// </summary>
/// <remarks>
/// This is the smallest client Bridge needs, written because Azure.Data.Tables is not available to this build: point
/// reads, paged queries, entity group transactions, and creating the table. Entities are read as
/// <see cref="JsonElement"/> (<c>odata=nometadata</c>) and written with <see cref="TableEntityWriter"/>, so the caller
/// owns its schema. Requests that break Azure's documented limits are refused before they are sent.
/// </remarks>
public class TableClient
{
    private const string JsonNoMetadata = "application/json;odata=nometadata";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _serviceUri;
    private readonly string _tableUri;
    private readonly string _serviceVersion;

    /// <summary>Creates a client that signs requests with the account key from a connection string.</summary>
    /// <exception cref="FormatException">The connection string is not usable; see <see cref="TableConnectionString"/>.</exception>
    public TableClient(string connectionString, string tableName, TableClientOptions? options = null)
        : this(TableConnectionString.Parse(connectionString), tableName, options)
    {
    }

    /// <summary>Creates a client that signs requests with an account key.</summary>
    public TableClient(Uri serviceUri, string tableName, AzureNamedKeyCredential credential, TableClientOptions? options = null)
        : this(serviceUri, tableName, new TableSharedKeyLitePolicy(credential), options)
    {
    }

    /// <summary>
    /// Creates a client that authenticates with Microsoft Entra ID, for example a managed identity. The identity needs
    /// the "Storage Table Data Contributor" role.
    /// </summary>
    public TableClient(Uri serviceUri, string tableName, TokenCredential credential, TableClientOptions? options = null)
        : this(serviceUri, tableName, new BearerTokenAuthenticationPolicy(credential, "https://storage.azure.com/.default"), options)
    {
    }

    private TableClient(TableConnectionString connection, string tableName, TableClientOptions? options)
        : this(connection.TableEndpoint, tableName, connection.Credential, options)
    {
    }

    private TableClient(Uri serviceUri, string tableName, HttpPipelinePolicy authentication, TableClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(serviceUri);
        if (tableName is not { Length: >= 3 and <= 63 } || !char.IsAsciiLetter(tableName[0]) || !tableName.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"A table name has 3 to 63 ASCII letters and digits and starts with a letter; '{tableName}' does not.", nameof(tableName));
        }

        options ??= new TableClientOptions();
        _serviceUri = new Uri(serviceUri.AbsoluteUri.TrimEnd('/'));
        _tableUri = _serviceUri.AbsoluteUri + "/" + tableName;
        _serviceVersion = options.ServiceVersion;
        Name = tableName;
        _pipeline = HttpPipelineBuilder.Build(options, [], [authentication], new ResponseClassifier());
    }

    /// <summary>The table's name.</summary>
    public string Name { get; }

    /// <summary>Creates the table unless it exists.</summary>
    public virtual async Task<Response> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var message = CreateMessage(RequestMethod.Post, "/Tables");
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["TableName"] = Name }));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.Status == 409 || !response.IsError ? response : throw CreateException(response);
    }

    /// <summary>Deletes the table and everything in it.</summary>
    public virtual async Task<Response> DeleteAsync(CancellationToken cancellationToken = default)
    {
        var message = CreateMessage(RequestMethod.Delete, $"/Tables('{Name}')");
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.IsError ? throw CreateException(response) : response;
    }

    /// <summary>Reads the table's own record: a cheap way to check that storage answers and the table exists.</summary>
    public virtual async Task<Response> GetTableAsync(CancellationToken cancellationToken = default)
    {
        var message = CreateMessage(RequestMethod.Get, $"/Tables('{Name}')");
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.IsError ? throw CreateException(response) : response;
    }

    /// <summary>
    /// Reads one entity, or nothing when it does not exist. The entity's ETag is in the raw response's headers.
    /// </summary>
    /// <param name="partitionKey">The entity's PartitionKey.</param>
    /// <param name="rowKey">The entity's RowKey.</param>
    /// <param name="read">Turns the entity's JSON into a value; the JSON is not valid after it returns.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public virtual async Task<NullableResponse<T>> GetEntityIfExistsAsync<T>(
        string partitionKey,
        string rowKey,
        Func<JsonElement, T> read,
        CancellationToken cancellationToken = default)
    {
        var message = CreateMessage(RequestMethod.Get, null);
        message.Request.Uri.Reset(new Uri(EntityUri(_tableUri, partitionKey, rowKey)));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return new EntityResponse<T>(response, default, hasValue: false);
        }

        if (response.IsError)
        {
            throw CreateException(response);
        }

        using var document = JsonDocument.Parse(response.Content.ToMemory());
        return new EntityResponse<T>(response, read(document.RootElement), hasValue: true);
    }

    /// <summary>Queries the table, a page at a time, following continuation tokens.</summary>
    /// <param name="filter">An OData filter. Quote string literals with <see cref="Quote"/>.</param>
    /// <param name="properties">The properties to return (<c>$select</c>), or null for all.</param>
    /// <param name="maxPerPage">Rows per page, at most 1000.</param>
    /// <param name="read">Turns each entity's JSON into a value; the JSON is not valid after it returns.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    public virtual AsyncPageable<T> QueryAsync<T>(
        string filter,
        IReadOnlyList<string>? properties,
        int? maxPerPage,
        Func<JsonElement, T> read,
        CancellationToken cancellationToken = default)
        where T : notnull
    {
        if (maxPerPage is < 1 or > TableLimits.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPerPage), $"A page holds 1 to {TableLimits.MaxPageSize} rows.");
        }

        return new QueryPageable<T>(this, filter, properties is null ? null : string.Join(',', properties), maxPerPage, read, cancellationToken);
    }

    /// <summary>Starts an entity group transaction on one partition.</summary>
    public virtual TableTransaction CreateTransaction(string partitionKey) => new(_tableUri, partitionKey);

    /// <summary>
    /// Commits a transaction: every operation succeeds, or none does.
    /// </summary>
    /// <returns>For each operation, in order, the entity's new ETag.</returns>
    /// <exception cref="TableTransactionFailedException">An operation failed and the transaction was rolled back.</exception>
    /// <exception cref="RequestFailedException">The service refused the request or could not be reached.</exception>
    public virtual async Task<Response<IReadOnlyList<ETag?>>> SubmitTransactionAsync(
        TableTransaction transaction,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Count == 0)
        {
            throw new ArgumentException("A transaction needs at least one operation.", nameof(transaction));
        }

        var message = CreateMessage(RequestMethod.Post, "/$batch");
        message.Request.Headers.SetValue("Content-Type", $"multipart/mixed; boundary={transaction.BatchBoundary}");
        message.Request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        message.Request.Content = RequestContent.Create(transaction.CompleteBody());
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            throw CreateException(response);
        }

        var parts = TransactionResponseParser.Parse(response.Content.ToString());
        var failed = parts.FindIndex(part => part.Status >= 300);
        if (failed >= 0)
        {
            var (code, text) = ReadError(parts[failed].Body);
            var index = OperationIndexOf(text);
            throw new TableTransactionFailedException(
                parts[failed].Status,
                $"The entity group transaction was rolled back: operation {index} failed with {parts[failed].Status} {code}. {FirstLine(text)}",
                code,
                index);
        }

        if (parts.Count != transaction.Count)
        {
            throw new RequestFailedException(
                response.Status,
                $"The transaction response holds {parts.Count} results for {transaction.Count} operations.",
                null,
                null);
        }

        return Response.FromValue<IReadOnlyList<ETag?>>(
            parts.ConvertAll(part => part.ETag is null ? (ETag?)null : new ETag(part.ETag)),
            response);
    }

    /// <summary>Quotes a string as an OData literal: single quotes around it, and inner quotes doubled.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    internal static string EntityUri(string tableUri, string partitionKey, string rowKey) =>
        $"{tableUri}(PartitionKey='{Escape(partitionKey)}',RowKey='{Escape(rowKey)}')";

    private static string Escape(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    private async Task<Page<T>> QueryPageAsync<T>(
        string filter,
        string? select,
        int? top,
        string? continuationToken,
        Func<JsonElement, T> read,
        CancellationToken cancellationToken)
        where T : notnull
    {
        var message = CreateMessage(RequestMethod.Get, $"/{Name}()");
        var uri = message.Request.Uri;
        uri.AppendQuery("$filter", filter, escapeValue: true);
        if (select is not null)
        {
            uri.AppendQuery("$select", select, escapeValue: true);
        }

        if (top is not null)
        {
            uri.AppendQuery("$top", top.Value.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        }

        if (continuationToken is not null)
        {
            var separator = continuationToken.IndexOf(' ', StringComparison.Ordinal);
            uri.AppendQuery("NextPartitionKey", continuationToken[..separator], escapeValue: true);
            if (separator + 1 < continuationToken.Length)
            {
                uri.AppendQuery("NextRowKey", continuationToken[(separator + 1)..], escapeValue: true);
            }
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.IsError)
        {
            throw CreateException(response);
        }

        List<T> values;
        using (var document = JsonDocument.Parse(response.Content.ToMemory()))
        {
            var rows = document.RootElement.GetProperty("value");
            values = new List<T>(rows.GetArrayLength());
            foreach (var row in rows.EnumerateArray())
            {
                values.Add(read(row));
            }
        }

        string? next = null;
        if (response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var nextPartition))
        {
            response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nextRow);
            next = nextPartition + " " + nextRow;
        }

        return Page<T>.FromValues(values, next, response);
    }

    private HttpMessage CreateMessage(RequestMethod method, string? path)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_serviceUri);
        if (path is not null)
        {
            request.Uri.AppendPath(path, escape: false);
        }

        request.Headers.SetValue("x-ms-version", _serviceVersion);
        request.Headers.SetValue("Accept", JsonNoMetadata);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        return message;
    }

    // Messages are not disposed: disposing one would dispose the buffered response that is handed back to the caller,
    // and once buffered, a response holds no connection or other unmanaged resource.
    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (AggregateException retriesExhausted)
        {
            // Azure.Core's retry policy reports every failed attempt together; callers get one exception to handle.
            throw new RequestFailedException(
                0,
                $"The Table service could not be reached after {retriesExhausted.InnerExceptions.Count} attempts: {retriesExhausted.InnerExceptions[^1].Message}",
                null,
                retriesExhausted);
        }

        return message.Response;
    }

    private static RequestFailedException CreateException(Response response)
    {
        var (code, text) = ReadError(response.Content.ToString());
        if (code is null && response.Headers.TryGetValue("x-ms-error-code", out var headerCode))
        {
            code = headerCode;
        }

        return new RequestFailedException(
            response.Status,
            $"The Table service answered {response.Status} {response.ReasonPhrase} ({code ?? "no error code"}). {FirstLine(text)}",
            code,
            null);
    }

    // The service answers errors as OData JSON, or, for some (authentication among them), as XML.
    private static (string? Code, string Message) ReadError(string body)
    {
        if (body.StartsWith('<'))
        {
            try
            {
                var error = System.Xml.Linq.XDocument.Parse(body).Root;
                var code = error?.Element("Code")?.Value;
                return (string.IsNullOrEmpty(code) ? null : code, error?.Element("Message")?.Value ?? string.Empty);
            }
            catch (System.Xml.XmlException)
            {
                return (null, body.Length > 200 ? body[..200] : body);
            }
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var error = document.RootElement.GetProperty("odata.error");
            var code = error.TryGetProperty("code", out var codeElement) ? codeElement.GetString() : null;
            var text = error.TryGetProperty("message", out var messageElement) &&
                       messageElement.TryGetProperty("value", out var value)
                ? value.GetString() ?? string.Empty
                : string.Empty;
            return (code, text);
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, body.Length > 200 ? body[..200] : body);
        }
    }

    // The service prefixes a failed transaction's message with the 0-based index of the failing operation: "1:The …".
    private static int OperationIndexOf(string message)
    {
        var colon = message.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : -1;
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private sealed class EntityResponse<T>(Response response, T? value, bool hasValue) : NullableResponse<T>
    {
        public override bool HasValue => hasValue;

        public override T Value => hasValue ? value! : throw new InvalidOperationException("The entity does not exist.");

        public override Response GetRawResponse() => response;
    }

    private sealed class QueryPageable<T>(
        TableClient client,
        string filter,
        string? select,
        int? maxPerPage,
        Func<JsonElement, T> read,
        CancellationToken cancellationToken) : AsyncPageable<T>(cancellationToken)
        where T : notnull
    {
        public override async IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            do
            {
                var page = await client.QueryPageAsync(filter, select, pageSizeHint ?? maxPerPage, continuationToken, read, CancellationToken)
                    .ConfigureAwait(false);
                continuationToken = page.ContinuationToken;
                yield return page;
            }
            while (continuationToken is not null);
        }
    }

    /// <summary>Reads the parts of a <c>multipart/mixed</c> transaction response: each inner status, ETag and body.</summary>
    private static class TransactionResponseParser
    {
        public static List<(int Status, string? ETag, string Body)> Parse(string content)
        {
            var parts = new List<(int, string?, string)>();
            using var reader = new StringReader(content);
            while (reader.ReadLine() is { } line)
            {
                if (!line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
                {
                    continue;
                }

                var status = int.Parse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture);
                string? etag = null;
                while (reader.ReadLine() is { Length: > 0 } header)
                {
                    if (header.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase))
                    {
                        etag = header[5..].Trim();
                    }
                }

                var body = new StringBuilder();
                while (reader.ReadLine() is { } bodyLine && !bodyLine.StartsWith("--", StringComparison.Ordinal))
                {
                    body.Append(bodyLine).Append('\n');
                }

                parts.Add((status, etag, body.ToString()));
            }

            return parts;
        }
    }
}
