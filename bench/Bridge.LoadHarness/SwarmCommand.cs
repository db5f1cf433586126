using System.Globalization;
using System.Net;

namespace Bridge.LoadHarness;

/// <summary>
/// <c>swarm --port P --path /… --connections N --first-source-address A</c>: a second client process that opens up to
/// N SSE connections, prints <c>held &lt;count&gt;</c>, and keeps them until its standard input closes. One client
/// process cannot push a server past an open-file limit that both share; two can.
/// </summary>
internal static class SwarmCommand
{
    public static async Task<int> RunAsync(Options options)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, options.Int("port", 0));
        await using var swarm = new SseSwarm(1);
        var held = await swarm.ConnectAsync(
            endpoint,
            options.Text("path") ?? "/",
            options.Int("connections", 1_000),
            options.Int("source-addresses", 4),
            _ => { },
            TimeSpan.FromMinutes(5),
            options.Int("first-source-address", 10));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held {held}"));
        await Console.In.ReadToEndAsync();
        return 0;
    }
}
