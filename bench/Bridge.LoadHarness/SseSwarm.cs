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
        private readonly Socket _socket;
        private readonly byte[] _buffer = new byte[2048];
        private int _carried;

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
                while (true)
                {
                    var read = await _socket.ReceiveAsync(_buffer.AsMemory(_carried), SocketFlags.None, cancellationToken);
                    if (read == 0)
                    {
                        return;
                    }

                    Scan(_carried + read, Stopwatch.GetTimestamp());
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
            var headers = new StringBuilder();
            while (!headers.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new IOException("The server closed the connection before answering.");
                }

                headers.Append(Encoding.ASCII.GetString(_buffer, 0, read));
            }

            if (!headers.ToString().StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Unexpected answer: {headers.ToString().Split('\n')[0]}");
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

                if (System.Buffers.Text.Utf8Parser.TryParse(span.Slice(start, end), out int marker, out _) && marker < Arrivals.Length && Arrivals[marker] == 0)
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
}
