using System.Net;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Subscriptions to several streams on one response against single-stream ones, in the same run (issue 14): one
/// fresh server for each kind, on the same Azurite, each holding the same number of connections. Memory per extra
/// stream is the difference in memory per connection divided by the extra streams; delivery is timed for events of
/// the one stream every connection follows, as in the fan-out scenario.
/// </summary>
internal static class MultiStreamScenario
{
    private const string Stream = "fanout";

    public static async Task<IReadOnlyList<FanOutScenario.ServerResult>> RunAsync(Report report, Options options)
    {
        var connections = options.Int("connections", 10_000);
        var streams = options.Int("streams-per-subscription", 5);
        var publishes = options.Int("publishes", 20);
        var rounds = options.Int("rounds", 1);
        var sourceAddresses = options.Int("source-addresses", 4);
        var settle = TimeSpan.FromSeconds(options.Int("settle-seconds", 5));
        await using var azurite = await AzuriteProcess.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "3600",
            ["Limits__MaxSubscribersPerClient"] = $"{connections}",
        };

        var quiet = Enumerable.Range(1, streams - 1).Select(i => $"quiet-{i}");
        var paths = new[]
        {
            ("one stream", $"/api/streams/{Stream}/events"),
            ($"{streams} streams", $"/api/events?{string.Join('&', quiet.Prepend(Stream).Select(name => $"stream={name}"))}"),
        };
        var results = new List<(int Round, FanOutScenario.ServerResult Result)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, path) in paths)
            {
                report.Progress($"Multi-stream, round {round}: {name}, {connections} connections");
                await using var server = await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly"));
                results.Add((round, await FanOutScenario.MeasureAsync(
                    name,
                    server.ProcessId,
                    new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port),
                    path,
                    (client, body) => client.PostAsync($"/api/streams/{Stream}/events", new StringContent(body)),
                    server.Client,
                    connections,
                    publishes,
                    sourceAddresses,
                    toLimit: false,
                    settle,
                    report,
                    () => server.Output)));
            }
        }

        report.Heading("Several streams on one response — memory and delivery");
        report.Line($"{connections:N0} SSE connections from a separate client process on loopback, to one stream (`{paths[0].Item2}`) or to {streams} streams on one response (`{paths[1].Item2}`), on a fresh server each; memory is RSS growth divided by connections. Then {publishes} events published one at a time to `{Stream}`, which every connection follows, each timed from just before its POST to its arrival on every connection.");
        report.Table(
            ["Round", "Subscription", "Memory per connection", "Memory per extra stream", "Delivery p50", "Delivery p99", "p99 × one stream", "All delivered"],
            results.Select(entry =>
            {
                var single = results.First(other => other.Round == entry.Round).Result;
                var r = entry.Result;
                var perExtra = r == single ? "—" : $"{(r.BytesPerConnection - single.BytesPerConnection) / (streams - 1) / 1024.0:F2} KB";
                return new[]
                {
                    $"{entry.Round}", r.Name, $"{r.BytesPerConnection / 1024.0:F1} KB", perExtra, $"{r.P50:F1} ms", $"{r.P99:F1} ms", $"{r.P99 / single.P99:F2}", r.AllDelivered ? "yes" : "**no**",
                };
            }));
        return [.. results.Select(entry => entry.Result)];
    }
}
