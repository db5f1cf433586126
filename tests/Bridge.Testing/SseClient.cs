using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;

namespace Bridge.Testing;

/// <summary>An event as a browser's EventSource would dispatch it.</summary>
public sealed record SseEvent(string LastEventId, string Type, string Data)
{
    /// <summary>The id's number (Bridge's ids are <c>{number}.{epoch}</c>).</summary>
    public long Id => long.Parse(LastEventId.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The id's epoch: empty for a stream without one.</summary>
    public string Epoch => LastEventId.Contains('.', StringComparison.Ordinal) ? LastEventId.Split('.')[1] : string.Empty;

    /// <summary>On a response that carries several streams, the stream the last <c>bridge.stream</c> event named.</summary>
    public string? Stream { get; init; }
}

/// <summary>
/// One Server-Sent Events response read over real HTTP with the framework's <see cref="SseParser"/>, which follows
/// the WHATWG parsing rules a browser uses. What arrived is also kept as text, for tests about comments and framing.
/// </summary>
public sealed class SseConnection : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly RecordingStream _body;
    private readonly SseParser<string> _parser;
    private readonly CancellationTokenSource _reading = new();
    private readonly IAsyncEnumerator<SseItem<string>> _items;
    private readonly string _initialLastEventId;
    private Task _pendingRead = Task.CompletedTask;
    private string? _stream;

    private SseConnection(HttpResponseMessage response, Stream body, string lastEventId)
    {
        _response = response;
        _body = new RecordingStream(body);
        _parser = SseParser.Create(_body);
        _items = _parser.EnumerateAsync(_reading.Token).GetAsyncEnumerator(_reading.Token);
        _initialLastEventId = lastEventId;
    }

    public HttpResponseMessage Response => _response;

    /// <summary>The browser's "last event ID string": what it would send as <c>Last-Event-ID</c> on reconnection.</summary>
    /// <remarks>
    /// The parser's value is its "last event ID buffer", which moves as soon as an <c>id:</c> line arrives; a browser
    /// takes it only at the blank line that ends the event. They differ when the connection breaks mid-event.
    /// </remarks>
    public string LastEventId => CutOff ? LastIdBeforeLastBlankLine() : string.IsNullOrEmpty(_parser.LastEventId) ? _initialLastEventId : _parser.LastEventId;

    /// <summary>The reconnection time from the last <c>retry:</c> field, if any.</summary>
    public int? RetryMilliseconds => _parser.ReconnectionInterval == Timeout.InfiniteTimeSpan ? null : (int)_parser.ReconnectionInterval.TotalMilliseconds;

    /// <summary>Everything received so far, as text.</summary>
    public string Received => _body.Text;

    /// <summary>True once the server ended the response, cleanly or by cutting the connection off.</summary>
    public bool Ended { get; private set; }

    /// <summary>True when the connection broke before the response's end, which a browser treats as an end too.</summary>
    public bool CutOff { get; private set; }

    /// <summary>Opens a subscription. Does not throw for non-200 answers; check <see cref="Response"/>.</summary>
    public static async Task<SseConnection> OpenAsync(HttpClient http, string url, string? lastEventId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = http.DefaultRequestVersion, VersionPolicy = http.DefaultVersionPolicy };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (!string.IsNullOrEmpty(lastEventId))
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new SseConnection(response, body, lastEventId ?? string.Empty);
    }

    /// <summary>
    /// Reads until the next dispatched event, or null when the response ends. A <c>bridge.stream</c> event is not
    /// returned: it names the <see cref="SseEvent.Stream"/> of the events after it.
    /// </summary>
    public async Task<SseEvent?> ReadEventAsync(CancellationToken cancellationToken)
    {
        await using var cancel = cancellationToken.Register(static reading => ((CancellationTokenSource)reading!).Cancel(), _reading);
        while (true)
        {
            var moving = _items.MoveNextAsync().AsTask();
            _pendingRead = moving;
            try
            {
                if (!await moving)
                {
                    Ended = true;
                    return null;
                }
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                // The event being received is dropped, as a browser drops it; the last event id stays at the last whole one.
                (Ended, CutOff) = (true, true);
                return null;
            }

            var item = _items.Current;
            if (item.EventType == "bridge.stream")
            {
                _stream = item.Data;
                continue;
            }

            return new SseEvent(LastEventId, item.EventType, item.Data) { Stream = _stream };
        }
    }

    private string LastIdBeforeLastBlankLine()
    {
        var text = _body.Text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var end = text.LastIndexOf("\n\n", StringComparison.Ordinal);
        var idLine = end < 0 ? null : text[..end].Split('\n').LastOrDefault(line => line.StartsWith("id:", StringComparison.Ordinal));
        return idLine is null ? _initialLastEventId : idLine[3..].TrimStart(' ');
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

    public async ValueTask DisposeAsync()
    {
        // A read may still be pending (a test that stopped waiting): end it first, since the parser's enumerator may
        // not be disposed while it runs.
        await _reading.CancelAsync();
        await _body.DisposeAsync();
        _response.Dispose();
        await _pendingRead.ContinueWith(_ => { }, TaskScheduler.Default);
        await _items.DisposeAsync();
        _reading.Dispose();
    }

    /// <summary>Passes reads through and keeps what was read, as UTF-8 text.</summary>
    private sealed class RecordingStream(Stream inner) : Stream
    {
        private readonly StringBuilder _text = new();
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Record(buffer.Span[..read]);
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Record(buffer.AsSpan(offset, read));
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Record(ReadOnlySpan<byte> bytes)
        {
            Span<char> chars = stackalloc char[Encoding.UTF8.GetMaxCharCount(Math.Min(bytes.Length, 4096))];
            lock (_text)
            {
                while (!bytes.IsEmpty)
                {
                    var take = Math.Min(bytes.Length, 4096);
                    var written = _decoder.GetChars(bytes[..take], chars, flush: false);
                    _text.Append(chars[..written]);
                    bytes = bytes[take..];
                }
            }
        }
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
        ArgumentNullException.ThrowIfNull(until);
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
