using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Bridge.DevKit;

/// <summary>
/// A TCP relay on loopback in front of a real server, used to inject real network faults: refusing every connection
/// (the server "goes down"), or dropping exactly one response after the request was delivered (the client never
/// learns whether its write committed). Bytes are otherwise forwarded untouched.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, Socket> _connections = new();
    private readonly List<PatternCounter> _counters = [];
    private volatile bool _refusing;
    private int _dropNextResponse;

    private TcpRelay(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The number of responses dropped so far.</summary>
    public int DroppedResponses { get; private set; }

    public static TcpRelay Start(int targetPort) => new(targetPort);

    /// <summary>Resets every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Refuse()
    {
        _refusing = true;
        foreach (var (client, server) in _connections)
        {
            Reset(client);
            Reset(server);
        }
    }

    public void Restore() => _refusing = false;

    /// <summary>
    /// From the <paramref name="occurrence"/>th time <paramref name="pattern"/> is sent to the server (counting from now,
    /// across connections), refuses as <see cref="Refuse"/> does, and the bytes that carried it never arrive: a fault at
    /// an exact point of a conversation, such as the second of three transactions.
    /// </summary>
    public void RefuseAt(string pattern, int occurrence)
    {
        var counter = Count(pattern);
        counter.WhenReached(occurrence, Refuse);
    }

    /// <summary>Delivers the next request but resets the connection as its response arrives.</summary>
    public void DropNextResponse() => Interlocked.Exchange(ref _dropNextResponse, 1);

    /// <summary>
    /// Counts the occurrences of <paramref name="pattern"/> in the bytes sent to the server from now on, such as one
    /// header that every request carries. Register counters before traffic starts.
    /// </summary>
    public PatternCounter Count(string pattern)
    {
        var counter = new PatternCounter(System.Text.Encoding.ASCII.GetBytes(pattern));
        lock (_counters)
        {
            _counters.Add(counter);
        }

        return counter;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Refuse();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_refusing)
            {
                Reset(client);
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            _connections[client] = server;
            PatternCounter.Scanner[] scanners;
            lock (_counters)
            {
                scanners = [.. _counters.Select(counter => counter.NewScanner())];
            }

            await Task.WhenAny(CopyAsync(client, server, dropping: false, scanners), CopyAsync(server, client, dropping: true, []));
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay or a peer closed the connection.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            Reset(client);
            Reset(server);
        }
    }

    private async Task CopyAsync(Socket from, Socket to, bool dropping, PatternCounter.Scanner[] scanners)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }

            if (dropping && Interlocked.Exchange(ref _dropNextResponse, 0) == 1)
            {
                DroppedResponses++;
                return;
            }

            foreach (var scanner in scanners)
            {
                scanner.Scan(buffer.AsSpan(0, read));
            }

            if (_refusing)
            {
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
            socket.Close();
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }
}

/// <summary>A running count of a byte pattern in a relay's upstream traffic, across all its connections.</summary>
public sealed class PatternCounter(byte[] pattern)
{
    private long _value;

    private (long Count, Action Action)? _trigger;

    public long Value => Interlocked.Read(ref _value);

    /// <summary>Runs <paramref name="action"/> once, as soon as the count reaches <paramref name="count"/>.</summary>
    internal void WhenReached(long count, Action action) => _trigger = (count, action);

    private void Add(long found)
    {
        var value = Interlocked.Add(ref _value, found);
        if (found > 0 && _trigger is { } trigger && value >= trigger.Count)
        {
            _trigger = null;
            trigger.Action();
        }
    }

    internal Scanner NewScanner() => new(this, pattern);

    /// <summary>Finds the pattern in one connection's byte stream, including across read boundaries.</summary>
    internal sealed class Scanner(PatternCounter counter, byte[] pattern)
    {
        private readonly byte[] _carry = new byte[pattern.Length - 1];
        private int _carried;

        public void Scan(ReadOnlySpan<byte> bytes)
        {
            // Matches that straddle the previous read end within the carried tail plus the head of this read.
            Span<byte> seam = stackalloc byte[(2 * pattern.Length) - 2];
            _carry.AsSpan(0, _carried).CopyTo(seam);
            var head = Math.Min(bytes.Length, pattern.Length - 1);
            bytes[..head].CopyTo(seam[_carried..]);
            var found = Occurrences(seam[..(_carried + head)]);
            found += Occurrences(bytes);
            counter.Add(found);

            var tail = Math.Min(bytes.Length, pattern.Length - 1);
            if (bytes.Length >= pattern.Length - 1)
            {
                bytes[^tail..].CopyTo(_carry);
                _carried = tail;
            }
            else
            {
                // A short read: keep what still fits from before, plus all of it.
                var keep = Math.Min(_carried, pattern.Length - 1 - bytes.Length);
                _carry.AsSpan(_carried - keep, keep).CopyTo(_carry);
                bytes.CopyTo(_carry.AsSpan(keep));
                _carried = keep + bytes.Length;
            }
        }

        private int Occurrences(ReadOnlySpan<byte> bytes)
        {
            var count = 0;
            for (var index = bytes.IndexOf(pattern); index >= 0; index = NextIndex(bytes, index))
            {
                count++;
            }

            return count;
        }

        private int NextIndex(ReadOnlySpan<byte> bytes, int previous)
        {
            var next = bytes[(previous + 1)..].IndexOf(pattern);
            return next < 0 ? -1 : previous + 1 + next;
        }
    }
}
