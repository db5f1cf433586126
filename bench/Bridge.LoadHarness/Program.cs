using Bridge.LoadHarness;
using Bridge.LoadHarness.Scenarios;

// The load harness for docs/benchmarks.md. Usage:
//   dotnet run -c Release --project bench/Bridge.LoadHarness -- <scenario> [--option value ...] [--output file.md]
// Scenarios: ingest, replay, fanout, latency, storage-cost, topic, writers, publish, http2, multistream, soak, all. Traffic stays on 127.0.0.0/8; every loop is bounded.
// The harness is the client side of every measurement and shares the machine with the servers it measures: handle
// socket completions on the socket engine's threads, without a hop through the thread pool, to keep its cost low.
// It must be set before the first socket is created, so it is set here when the caller has not set it.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

var scenarios = new Dictionary<string, Func<Report, Options, Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["ingest"] = IngestScenario.RunAsync,
    ["replay"] = ReplayScenario.RunAsync,
    ["fanout"] = FanOutScenario.RunAsync,
    ["latency"] = LatencyScenario.RunAsync,
    ["storage-cost"] = StorageCostScenario.RunAsync,
    ["topic"] = TopicScenario.RunAsync,
    ["writers"] = WritersScenario.RunAsync,
    ["publish"] = PublishScenario.RunAsync,
    ["http2"] = Http2Scenario.RunAsync,
    ["multistream"] = MultiStreamScenario.RunAsync,
    ["soak"] = SoakScenario.RunAsync,
};

if (args.Length > 0 && args[0] == "swarm")
{
    return await SwarmCommand.RunAsync(Options.Parse(args.Skip(1)));
}

if (args.Length == 0 || (!scenarios.ContainsKey(args[0]) && args[0] != "all"))
{
    Console.Error.WriteLine($"Usage: <{string.Join("|", scenarios.Keys)}|all> [--option value ...] [--output report.md]");
    return 2;
}

var options = Options.Parse(args.Skip(1));
var report = new Report(Console.Error);
report.Line($"Machine: {Machine.Describe()}. Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: `{string.Join(' ', args)}`.");
// "all" leaves out the soak, which runs for half an hour by itself.
foreach (var (name, run) in scenarios.Where(pair => (args[0] == "all" && pair.Key != "soak") || pair.Key.Equals(args[0], StringComparison.OrdinalIgnoreCase)))
{
    report.Progress($"== {name}");
    await run(report, options);
}

Console.WriteLine(report);
if (options.Text("output") is { } output)
{
    await File.AppendAllTextAsync(output, report.ToString());
}

return 0;
