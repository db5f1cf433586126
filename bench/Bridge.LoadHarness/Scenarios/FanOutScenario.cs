using System.Diagnostics;
using System.Net;
using System.Text;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Target 3: one server process holding many SSE connections to one stream: memory per connection (growth of
/// resident memory divided by connections) and the time for a published event to reach all of them. The same clients
/// and publishes run against a minimal Node broadcaster in the same run, for comparison.
/// </summary>
internal static class FanOutScenario
{
    public static async Task<IReadOnlyList<ServerResult>> RunAsync(Report report, Options options)
    {
        var connections = options.Int("connections", 10_000);
        var settle = TimeSpan.FromSeconds(options.Int("settle-seconds", 5));
        var publishes = options.Int("publishes", 20);
        var sourceAddresses = options.Int("source-addresses", 4);
        var toLimit = options.Flag("to-limit");

        await using var azurite = await AzuriteProcess.StartAsync();
        var results = new List<ServerResult>();

        report.Progress($"Fan-out: Bridge, {connections} connections");
        var serverSettings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "3600",
        };
        foreach (var setting in (options.Text("server-env") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            serverSettings[setting.Split('=')[0]] = setting.Split('=', 2)[1];
        }

        await using (var server = await BridgeServerProcess.StartAsync(serverSettings, assembly: options.Text("server-assembly")))
        {
            var pid = server.ProcessId;
            results.Add(await MeasureAsync(
                "Bridge",
                pid,
                new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port),
                "/api/streams/fanout/events",
                (client, body) => client.PostAsync("/api/streams/fanout/events", new StringContent(body)),
                server.Client,
                connections,
                publishes,
                sourceAddresses,
                toLimit,
                settle,
                report,
                () => server.Output));
        }

        if (options.Flag("bridge-only"))
        {
            report.Progress($"  Bridge only: {results[0].BytesPerConnection / 1024.0:F1} KB per connection");
            return results;
        }

        report.Progress($"Fan-out: Node baseline, {connections} connections");
        var nodePort = FreePort.Next();
        using (var node = Process.Start(new ProcessStartInfo("node", [Path.Combine(RepositoryPaths.Root, "bench", "node-broadcaster", "server.js"), nodePort.ToString(System.Globalization.CultureInfo.InvariantCulture)])
               {
                   RedirectStandardOutput = true,
                   UseShellExecute = false,
               })!)
        {
            await node.StandardOutput.ReadLineAsync();
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nodePort}") };
            try
            {
                results.Add(await MeasureAsync(
                    "Node http + res.write",
                    node.Id,
                    new IPEndPoint(IPAddress.Loopback, nodePort),
                    "/events",
                    (http, body) => http.PostAsync("/publish", new StringContent(body)),
                    client,
                    connections,
                    publishes,
                    sourceAddresses,
                    toLimit,
                    settle,
                    report,
                    () => "(Node prints nothing)"));
            }
            finally
            {
                node.Kill();
            }
        }

        report.Heading("Target 3 — fan-out and memory");
        report.Line($"{connections} SSE connections to one stream from a separate client process on loopback ({sourceAddresses} source addresses); 3 untimed events to warm up; then {publishes} events published one at a time, each timed from just before its POST to its arrival on every connection. Server CPU per event is the server process's user and system time over the timed events, divided by their number.");
        report.Table(
            ["Server", "Connections held", "Memory per connection (RSS growth / connections)", "Delivery p50", "Delivery p99", "Server CPU per event", "All delivered"],
            results.Select(r => new[]
            {
                r.Name, $"{r.Connections:N0}", $"{r.BytesPerConnection / 1024.0:F1} KB", $"{r.P50:F1} ms", $"{r.P99:F1} ms", $"{r.CpuMillisecondsPerEvent:F0} ms", r.AllDelivered ? "yes" : "**no**",
            }));
        if (toLimit)
        {
            report.Table(
                ["Server", "Most connections held (open-file limit)", "Memory per connection there"],
                results.Select(r => new[] { r.Name, $"{r.MaxConnections:N0}", $"{r.BytesPerConnectionAtMax / 1024.0:F1} KB" }));
        }

        return results;
    }

    /// <summary>
    /// Memory per connection and delivery latency of one server: <paramref name="connections"/> SSE connections on
    /// <paramref name="path"/>, then <paramref name="publishes"/> timed events, each awaited on every connection.
    /// </summary>
    internal static async Task<ServerResult> MeasureAsync(
        string name,
        int pid,
        IPEndPoint endpoint,
        string path,
        Func<HttpClient, string, Task<HttpResponseMessage>> publish,
        HttpClient publisher,
        int connections,
        int publishes,
        int sourceAddresses,
        bool toLimit,
        TimeSpan settle,
        Report report,
        Func<string> serverOutput)
    {
        // Warm up: one subscriber and one event, so the stream's tail, JIT and pools exist before the baseline.
        await using (var warm = new SseSwarm(1))
        {
            await warm.ConnectAsync(endpoint, path, 1, 1, _ => { }, TimeSpan.FromSeconds(30));
            using var _ = await publish(publisher, "mark-0.");
            await warm.WaitForMarkerAsync(0, TimeSpan.FromSeconds(10));
        }

        await Task.Delay(settle / 2);
        var baseline = Measure.ResidentBytes(pid);
        // Markers 0..warmUps-1 warm the fan-out path (JIT tiers, pools) with every connection open; they are not timed.
        const int warmUps = 3;
        await using var swarm = new SseSwarm(warmUps + publishes);
        var held = await swarm.ConnectAsync(endpoint, path, connections, sourceAddresses, count => report.Progress($"  {name}: {count} connected"), TimeSpan.FromMinutes(5));
        await Task.Delay(settle);
        var loaded = Measure.ResidentBytes(pid);
        report.Progress($"  {name}: {held} connections, RSS {baseline / 1048576.0:F0} → {loaded / 1048576.0:F0} MiB");

        for (var marker = 0; marker < warmUps; marker++)
        {
            using var _ = await publish(publisher, $"mark-{marker}.");
            await swarm.WaitForMarkerAsync(marker, TimeSpan.FromSeconds(30));
        }

        var latencies = new List<double>();
        var allDelivered = true;
        var cpuBefore = Measure.CpuTime(pid);
        var measured = toLimit ? publishes - 1 : publishes;
        for (var marker = warmUps; marker < warmUps + measured; marker++)
        {
            var sent = Stopwatch.GetTimestamp();
            using (var response = await publish(publisher, $"mark-{marker}."))
            {
                response.EnsureSuccessStatusCode();
            }

            allDelivered &= await swarm.WaitForMarkerAsync(marker, TimeSpan.FromSeconds(30));
            latencies.AddRange(swarm.Latencies(marker, sent));
            await Task.Delay(100);
        }

        // The server's own CPU per delivered event (publish and fan-out, heartbeats aside): a cost that does not
        // depend on the client, which shares the cores.
        var cpuPerEvent = (Measure.CpuTime(pid) - cpuBefore).TotalMilliseconds / measured;
        latencies.Sort();
        var result = new ServerResult(name, held, (loaded - baseline) / (double)held, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99), allDelivered)
        {
            CpuMillisecondsPerEvent = cpuPerEvent,
        };
        report.Progress($"  {name}: delivery p50 {result.P50:F1} ms, p99 {result.P99:F1} ms, server CPU {cpuPerEvent:F0} ms per event");
        if (!toLimit)
        {
            return result;
        }

        // Then as many as the open-file limit allows. This process shares that limit with the server, so a second
        // client process adds connections until the server refuses them; then one more event must still reach
        // every connection held here.
        using var extra = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                typeof(FanOutScenario).Assembly.Location, "swarm", "--port", endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--path", path, "--connections", "30000", "--first-source-address", "10",
            },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var heldLine = await extra.StandardOutput.ReadLineAsync();
        var more = held + int.Parse(heldLine!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        report.Progress($"  {name}: {more} connections in all, until the server refused more");
        await Task.Delay(settle);
        if (!File.Exists($"/proc/{pid}/status"))
        {
            report.Progress($"  {name}: the server process exited at about {more} connections. Its output:\n{serverOutput()}");
            extra.Kill();
            return result with { MaxConnections = -more };
        }

        var atMax = Measure.ResidentBytes(pid);
        var last = warmUps + publishes - 1;
        var stillDelivers = await publish(publisher, $"mark-{last}.") is { IsSuccessStatusCode: true } && await swarm.WaitForMarkerAsync(last, TimeSpan.FromSeconds(30));
        report.Progress($"  {name}: RSS {atMax / 1048576.0:F0} MiB at {more} connections; still delivering: {stillDelivers}");
        extra.StandardInput.Close();
        await extra.WaitForExitAsync();
        return result with { MaxConnections = more, BytesPerConnectionAtMax = (atMax - baseline) / (double)more };
    }

    /// <summary>One server's figures.</summary>
    internal sealed record ServerResult(string Name, int Connections, double BytesPerConnection, double P50, double P99, bool AllDelivered)
    {
        public int MaxConnections { get; init; }

        public double BytesPerConnectionAtMax { get; init; }

        public double CpuMillisecondsPerEvent { get; init; }
    }
}
