using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bridge.LoadHarness;

/// <summary>
/// Many SSE connections on raw sockets, cheap enough to hold tens of thousands from one process. Each connection
/// sends a GET, and then watches its byte stream for markers <c>mark-&lt;n&gt;.</c> and records when each arrives.
/// Connections are spread over several 127.0.0.x source addresses, because one source address has only about 28,000
/// ephemeral ports.
/// </summary>
/// <remarks>
/// The client shares the machine's cores with the server under test, so it must cost as little as possible per
/// event: the harness runs with inline socket completions (see Program.cs), so a receive is handled on the socket
/// engine's thread without a hop through the thread pool.
/// </remarks>
internal sealed class SseSwarm : IAsyncDisposable
{
    private static readonly byte[] Marker = "mark-"u8.ToArray();

    private readonly List<Connection> _connections = [];
    private readonly int _markers;
    private readonly CancellationTokenSource _stop = new();

    public SseSwarm(int markers) => _markers = markers;

    public int Count => _connections.Count;

    /// <summary>
    /// Opens up to <paramref name="count"/> connections, a few hundred at a time so the server's accept queue keeps
    /// up. Stops early, without throwing, at the first connection refused for lack of resources.
    /// </summary>
    public async Task<int> ConnectAsync(IPEndPoint server, string path, int count, int sourceAddresses, Action<int> progress, TimeSpan timeLimit, int firstSourceAddress = 1)
    {
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n");
        using var deadline = new CancellationTokenSource(timeLimit);
        var failed = false;
        using var gate = new SemaphoreSlim(256);
        var pending = new List<Task>();
        for (var i = 0; i < count && !failed && !deadline.IsCancellationRequested; i++)
        {
            await gate.WaitAsync(deadline.Token);
            var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(firstSourceAddress + (i % sourceAddresses)) });
            pending.Add(Task.Run(async () =>
            {
                try
                {
                    var connection = await Connection.OpenAsync(source, server, request, _markers, deadline.Token);
                    lock (_connections)
                    {
                        _connections.Add(connection);
                        if (_connections.Count % 1000 == 0)
                        {
                            progress(_connections.Count);
                        }
                    }

                    _ = connection.ReadAsync(_stop.Token);
                }
                catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or InvalidOperationException)
                {
                    failed = true;
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(pending);
        return _connections.Count;
    }

    /// <summary>Waits until every connection has seen marker <paramref name="marker"/>, or the time is up.</summary>
    public async Task<bool> WaitForMarkerAsync(int marker, TimeSpan timeLimit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeLimit.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (_connections.TrueForAll(connection => connection.Arrivals[marker] != 0))
            {
                return true;
            }

            await Task.Delay(10);
        }

        return false;
    }

    /// <summary>Milliseconds from <paramref name="sentTimestamp"/> to each connection's arrival of the marker.</summary>
    public List<double> Latencies(int marker, long sentTimestamp) =>
        [.. _connections.Where(c => c.Arrivals[marker] != 0).Select(c => Measure.Milliseconds(sentTimestamp, c.Arrivals[marker]))];

    public int Received(int marker) => _connections.Count(c => c.Arrivals[marker] != 0);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var connection in _connections)
        {
            connection.Close();
        }

        _stop.Dispose();
    }

    private sealed class Connection
    {
        private static readonly byte[] EndOfHeaders = "\r\n\r\n"u8.ToArray();

        private readonly Socket _socket;
        private readonly byte[] _received = new byte[2048];
        private readonly byte[] _buffer = new byte[2048];
        private readonly ChunkedBody _body = new();
        private int _carried;
        private int _afterHeaders;
        private int _receivedWithHeaders;

        private Connection(Socket socket, int markers)
        {
            _socket = socket;
            Arrivals = new long[markers];
        }

        public long[] Arrivals { get; }

        public static async Task<Connection> OpenAsync(IPAddress source, IPEndPoint server, byte[] request, int markers, CancellationToken cancellationToken)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(server, cancellationToken);
                await socket.SendAsync(request, SocketFlags.None, cancellationToken);
                var connection = new Connection(socket, markers);
                await connection.ReadHeadersAsync(cancellationToken);
                return connection;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public async Task ReadAsync(CancellationToken cancellationToken)
        {
            try
            {
                // Body bytes that came in the same read as the headers.
                Receive(_received.AsSpan(_afterHeaders, _receivedWithHeaders - _afterHeaders), Stopwatch.GetTimestamp());
                while (true)
                {
                    // Decoding never grows the bytes, so a read this size always fits behind the carried tail.
                    var read = await _socket.ReceiveAsync(_received.AsMemory(0, _buffer.Length - _carried), SocketFlags.None, cancellationToken);
                    if (read == 0)
                    {
                        return;
                    }

                    Receive(_received.AsSpan(0, read), Stopwatch.GetTimestamp());
                }
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Closed.
            }
        }

        public void Close() => _socket.Dispose();

        private async Task ReadHeadersAsync(CancellationToken cancellationToken)
        {
            while (_received.AsSpan(0, _receivedWithHeaders).IndexOf(EndOfHeaders) is < 0)
            {
                if (_receivedWithHeaders == _received.Length)
                {
                    throw new InvalidOperationException("The response headers are longer than the buffer.");
                }

                var read = await _socket.ReceiveAsync(_received.AsMemory(_receivedWithHeaders), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new IOException("The server closed the connection before answering.");
                }

                _receivedWithHeaders += read;
            }

            _afterHeaders = _received.AsSpan(0, _receivedWithHeaders).IndexOf(EndOfHeaders) + EndOfHeaders.Length;
            var headers = Encoding.ASCII.GetString(_received, 0, _afterHeaders);
            if (!headers.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Unexpected answer: {headers.Split('\n')[0]}");
            }

            _body.IsChunked = headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
        }

        private void Receive(ReadOnlySpan<byte> received, long now)
        {
            var decoded = _body.Decode(received, _buffer.AsSpan(_carried));
            if (decoded > 0)
            {
                Scan(_carried + decoded, now);
            }
        }

        /// <summary>Records markers "mark-N." found in the buffer, keeping an unfinished tail for the next read.</summary>
        private void Scan(int length, long now)
        {
            var span = _buffer.AsSpan(0, length);
            var consumed = 0;
            while (true)
            {
                var at = span[consumed..].IndexOf(Marker);
                if (at < 0)
                {
                    consumed = Math.Max(consumed, length - Marker.Length);
                    break;
                }

                var start = consumed + at + Marker.Length;
                var end = span[start..].IndexOf((byte)'.');
                if (end < 0)
                {
                    consumed += at;
                    break;
                }

                if (System.Buffers.Text.Utf8Parser.TryParse(span.Slice(start, end), out int marker, out var digits) && digits == end && marker < Arrivals.Length && Arrivals[marker] == 0)
                {
                    Arrivals[marker] = now;
                }

                consumed = start + end + 1;
            }

            _carried = length - consumed;
            span[consumed..].CopyTo(_buffer);
            if (_carried >= _buffer.Length - 64)
            {
                _carried = 0;
            }
        }
    }

    /// <summary>
    /// HTTP/1.1 chunked transfer coding removed from a response body as it arrives, so that a chunk boundary inside a
    /// marker cannot hide it. Kestrel sends no chunk extensions or trailers on an SSE response.
    /// </summary>
    private sealed class ChunkedBody
    {
        private enum Part { Size, Data, DataEnd }

        private Part _part = Part.Size;
        private int _size;
        private int _remaining;

        public bool IsChunked { get; set; }

        /// <summary>Copies the body's bytes in <paramref name="received"/> to <paramref name="body"/>; returns how many.</summary>
        public int Decode(ReadOnlySpan<byte> received, Span<byte> body)
        {
            if (!IsChunked)
            {
                received.CopyTo(body);
                return received.Length;
            }

            var written = 0;
            var at = 0;
            while (at < received.Length)
            {
                switch (_part)
                {
                    case Part.Size:
                        var b = received[at++];
                        if (b == (byte)'\n')
                        {
                            (_part, _remaining, _size) = (_size == 0 ? Part.DataEnd : Part.Data, _size, 0);
                        }
                        else if (b != (byte)'\r')
                        {
                            _size = (_size * 16) + Uri.FromHex((char)b);
                        }

                        break;
                    case Part.Data:
                        var take = Math.Min(_remaining, received.Length - at);
                        received.Slice(at, take).CopyTo(body[written..]);
                        (at, written, _remaining) = (at + take, written + take, _remaining - take);
                        if (_remaining == 0)
                        {
                            _part = Part.DataEnd;
                        }

                        break;
                    case Part.DataEnd:
                        if (received[at++] == (byte)'\n')
                        {
                            _part = Part.Size;
                        }

                        break;
                }
            }

            return written;
        }
    }
}
