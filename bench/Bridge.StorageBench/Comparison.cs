using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using Bridge.LoadHarness;

namespace Bridge.StorageBench;

/// <summary>
/// Runs another build's measurements and this build's alternately, each in a fresh process on the same Azurite, and
/// prints the medians side by side: the before-and-after table of docs/benchmarks.md.
/// </summary>
internal static class Comparison
{
    public static async Task<int> RunAsync(Options options)
    {
        var before = options.Required("before");
        var rounds = options.Int("rounds", 6);
        var measureOptions = options.Forward("before", "rounds", "label").ToList();
        var results = new Dictionary<string, List<Measurement>> { ["before"] = [], ["after"] = [] };
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (label, assembly) in new[] { ("before", before), ("after", typeof(Comparison).Assembly.Location) })
            {
                var measurement = await MeasureAsync(assembly, [.. measureOptions, "--label", label]);
                results[label].Add(measurement);
                Console.Error.WriteLine(
                    $"round {round} {label}: ingest {measurement.IngestBridge.PerSecond:F0}/s vs raw {measurement.IngestRaw.PerSecond:F0}/s, " +
                    $"replay {measurement.ReplayBridge.PerSecond:F0}/s vs raw {measurement.ReplayRaw.PerSecond:F0}/s");
            }
        }

        Console.WriteLine(Table(results["before"], results["after"]));
        return 0;
    }

    private static async Task<Measurement> MeasureAsync(string assembly, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("measure");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the measurement.");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{assembly} measure exited with {process.ExitCode}.");
        }

        return JsonSerializer.Deserialize<Measurement>(output.Trim().Split('\n')[^1])!;
    }

    private static string Table(List<Measurement> before, List<Measurement> after)
    {
        string Row(string what, Func<Measurement, double> figure, string format) =>
            $"| {what} | {Median(before, figure).ToString(format, CultureInfo.InvariantCulture)} | {Median(after, figure).ToString(format, CultureInfo.InvariantCulture)} |";

        return string.Join('\n',
            "| Median of the rounds | Before | After |",
            "|---|---|---|",
            Row("Ingest: raw `SubmitTransactionAsync`, entities/s", m => m.IngestRaw.PerSecond, "F0"),
            Row("Ingest: Bridge, events/s", m => m.IngestBridge.PerSecond, "F0"),
            Row("Ingest: Bridge ÷ raw", m => m.IngestBridge.PerSecond / m.IngestRaw.PerSecond, "F2"),
            Row("Ingest: entities written per event", m => m.EntitiesPerEvent, "F3"),
            Row("Ingest: client CPU per event, raw (µs)", m => m.IngestRaw.CpuMicroseconds, "F1"),
            Row("Ingest: client CPU per event, Bridge (µs)", m => m.IngestBridge.CpuMicroseconds, "F1"),
            Row("Ingest: allocated per event, raw (bytes)", m => m.IngestRaw.AllocatedBytes, "F0"),
            Row("Ingest: allocated per event, Bridge (bytes)", m => m.IngestBridge.AllocatedBytes, "F0"),
            Row("Replay: raw paged `QueryAsync`, rows/s", m => m.ReplayRaw.PerSecond, "F0"),
            Row("Replay: Bridge `ReadAsync`, events/s", m => m.ReplayBridge.PerSecond, "F0"),
            Row("Replay: Bridge ÷ raw", m => m.ReplayBridge.PerSecond / m.ReplayRaw.PerSecond, "F2"),
            Row("Replay: client CPU per event, raw (µs)", m => m.ReplayRaw.CpuMicroseconds, "F1"),
            Row("Replay: client CPU per event, Bridge (µs)", m => m.ReplayBridge.CpuMicroseconds, "F1"),
            Row("Replay: allocated per event, raw (bytes)", m => m.ReplayRaw.AllocatedBytes, "F0"),
            Row("Replay: allocated per event, Bridge (bytes)", m => m.ReplayBridge.AllocatedBytes, "F0"));
    }

    private static double Median(List<Measurement> measurements, Func<Measurement, double> figure) => Measurement.Median(measurements.Select(figure));
}
