using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Bridge.Testing;

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

    /// <summary>Delivers the next request but resets the connection as its response arrives.</summary>
    public void DropNextResponse() => Interlocked.Exchange(ref _dropNextResponse, 1);

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
            await Task.WhenAny(CopyAsync(client, server, dropping: false), CopyAsync(server, client, dropping: true));
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

    private async Task CopyAsync(Socket from, Socket to, bool dropping)
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
