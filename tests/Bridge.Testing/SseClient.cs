using System.Net.Http.Headers;
using System.Text;

namespace Bridge.Testing;

/// <summary>An event as a browser's EventSource would dispatch it.</summary>
public sealed record SseEvent(string LastEventId, string Type, string Data)
{
    /// <summary>The id as a number (Bridge's ids are numbers).</summary>
    public long Id => long.Parse(LastEventId, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// One Server-Sent Events response read over real HTTP, parsed with the WHATWG algorithm a browser uses: lines end
/// with CR, LF or CRLF; a blank line dispatches; the last event id is updated at every dispatch, even without data;
/// an event cut off by the end of the stream is dropped. Comments and <c>retry:</c> are recorded for the tests.
/// </summary>
public sealed class SseConnection : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly StringBuilder _data = new();
    private string _eventType = string.Empty;
    private string _idBuffer;

    private SseConnection(HttpResponseMessage response, Stream body, string lastEventId)
    {
        _response = response;
        _reader = new StreamReader(body, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        _idBuffer = lastEventId;
        LastEventId = lastEventId;
    }

    public HttpResponseMessage Response => _response;

    /// <summary>The browser's "last event ID string": what it would send as <c>Last-Event-ID</c> on reconnection.</summary>
    public string LastEventId { get; private set; }

    /// <summary>The reconnection time from the last <c>retry:</c> field, if any.</summary>
    public int? RetryMilliseconds { get; private set; }

    /// <summary>Every comment line received, without its colon.</summary>
    public List<string> Comments { get; } = [];

    /// <summary>True once the server ended the response.</summary>
    public bool Ended { get; private set; }

    /// <summary>Opens a subscription. Does not throw for non-200 answers; check <see cref="Response"/>.</summary>
    public static async Task<SseConnection> OpenAsync(HttpClient http, string url, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (!string.IsNullOrEmpty(lastEventId))
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new SseConnection(response, body, lastEventId ?? string.Empty);
    }

    /// <summary>Reads until the next dispatched event, or null when the response ends.</summary>
    public async Task<SseEvent?> ReadEventAsync(CancellationToken cancellationToken)
    {
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (Dispatch() is { } dispatched)
                {
                    return dispatched;
                }

                continue;
            }

            if (line[0] == ':')
            {
                Comments.Add(line[1..].TrimStart(' '));
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "event":
                    _eventType = value;
                    break;
                case "data":
                    _data.Append(value).Append('\n');
                    break;
                case "id" when !value.Contains('\0', StringComparison.Ordinal):
                    _idBuffer = value;
                    break;
                case "retry" when value.Length > 0 && value.All(char.IsAsciiDigit):
                    RetryMilliseconds = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        Ended = true;
        return null;
    }

    /// <summary>Reads every event until the server ends the response.</summary>
    public async Task<List<SseEvent>> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var events = new List<SseEvent>();
        while (await ReadEventAsync(cancellationToken) is { } received)
        {
            events.Add(received);
        }

        return events;
    }

    /// <summary>Reads events until <paramref name="count"/> have arrived.</summary>
    public async Task<List<SseEvent>> ReadEventsAsync(int count, CancellationToken cancellationToken)
    {
        var events = new List<SseEvent>();
        while (events.Count < count && await ReadEventAsync(cancellationToken) is { } received)
        {
            events.Add(received);
        }

        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }

    private SseEvent? Dispatch()
    {
        LastEventId = _idBuffer;
        if (_data.Length == 0)
        {
            _eventType = string.Empty;
            return null;
        }

        var data = _data.ToString(0, _data.Length - 1);
        var dispatched = new SseEvent(LastEventId, _eventType.Length == 0 ? "message" : _eventType, data);
        _data.Clear();
        _eventType = string.Empty;
        return dispatched;
    }
}

/// <summary>
/// Behaves like a browser's EventSource: whenever a response ends it waits the <c>retry:</c> time and reconnects
/// with <c>Last-Event-ID</c>, collecting every event across connections.
/// </summary>
public sealed class ReconnectingSseClient(HttpClient http, string url)
{
    public List<SseEvent> Events { get; } = [];

    public int Connections { get; private set; }

    public List<int?> RetryHints { get; } = [];

    public string LastEventId { get; private set; } = string.Empty;

    /// <summary>Keeps reading until <paramref name="until"/> holds, reconnecting after each server-side close.</summary>
    public async Task RunAsync(Func<ReconnectingSseClient, bool> until, CancellationToken cancellationToken)
    {
        while (!until(this))
        {
            await using var connection = await SseConnection.OpenAsync(http, url, LastEventId, cancellationToken);
            Connections++;
            connection.Response.EnsureSuccessStatusCode();
            while (!until(this) && await connection.ReadEventAsync(cancellationToken) is { } received)
            {
                Events.Add(received);
                LastEventId = connection.LastEventId;
            }

            LastEventId = connection.LastEventId;
            RetryHints.Add(connection.RetryMilliseconds);
            if (!until(this))
            {
                await Task.Delay(connection.RetryMilliseconds ?? 3000, cancellationToken);
            }
        }
    }
}
