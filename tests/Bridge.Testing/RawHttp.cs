using System.Net.Sockets;
using System.Text;

namespace Bridge.Testing;

/// <summary>What came back on a raw connection: nothing (the server closed it), or a status line, headers and body.</summary>
public sealed record RawResponse(int? Status, string Head, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public override string ToString() => Status is null ? "connection closed without an answer" : Head.Split("\r\n")[0];
}

/// <summary>
/// HTTP/1.1 over a bare socket to a loopback server, for requests no well-behaved client would send: malformed request
/// lines, broken framing, invalid bytes, and bodies or headers sent slowly.
/// </summary>
public static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="request"/> as is and reads the answer: its head, then a body of Content-Length bytes; for
    /// an event stream, until the body holds <paramref name="readUntil"/>; otherwise until the server closes the
    /// connection, so requests should say <c>Connection: close</c>.
    /// </summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] request, CancellationToken cancellationToken, string? readUntil = null)
    {
        using var socket = await ConnectAsync(server, cancellationToken);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);
        return await ReadResponseAsync(socket, readUntil, cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="start"/>, then one byte of <paramref name="trickle"/> at a time every
    /// <paramref name="interval"/>, the way a slowloris client holds a connection, until the server answers or closes.
    /// </summary>
    public static async Task<RawResponse> SendSlowlyAsync(Uri server, byte[] start, byte[] trickle, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var socket = await ConnectAsync(server, cancellationToken);
        await socket.SendAsync(start, SocketFlags.None, cancellationToken);
        var reading = ReadResponseAsync(socket, readUntil: null, cancellationToken);
        for (var sent = 0; sent < trickle.Length && !reading.IsCompleted; sent++)
        {
            try
            {
                await socket.SendAsync(trickle.AsMemory(sent, 1), SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                break; // The server closed the connection on us, which is what a slowloris client should meet.
            }

            await Task.WhenAny(reading, Task.Delay(interval, cancellationToken));
        }

        return await reading;
    }

    private static async Task<Socket> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, server.Port, cancellationToken);
        return socket;
    }

    private static async Task<RawResponse> ReadResponseAsync(Socket socket, string? readUntil, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[16 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await ReceiveAsync(socket, buffer, cancellationToken);
            if (read == 0)
            {
                return new RawResponse(null, Encoding.Latin1.GetString([.. received]), []);
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        var head = Encoding.Latin1.GetString([.. received.Take(headEnd)]);
        var body = received.Skip(headEnd + 4).ToList();
        var contentLength = Header(head, "Content-Length") is { } length ? int.Parse(length, System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
        var isStream = Header(head, "Content-Type")?.StartsWith("text/event-stream", StringComparison.Ordinal) == true;
        bool MoreToRead() => contentLength is { } expected
            ? body.Count < expected
            : isStream
                ? readUntil is not null && IndexOf(body, Encoding.UTF8.GetBytes(readUntil)) < 0
                : true; // chunked: read to the end of the connection (send Connection: close)
        while (MoreToRead())
        {
            var read = await ReceiveAsync(socket, buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            body.AddRange(buffer.AsSpan(0, read));
        }

        return new RawResponse(int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), head, [.. body]);
    }

    /// <summary>Receives what is there; a connection the server reset counts as closed.</summary>
    private static async Task<int> ReceiveAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }

    private static string? Header(string head, string name) =>
        head.Split("\r\n").Skip(1).Select(line => line.Split(':', 2)).FirstOrDefault(parts => parts.Length == 2 && parts[0].Equals(name, StringComparison.OrdinalIgnoreCase))?[1].Trim();

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(haystack).IndexOf(needle);
}
