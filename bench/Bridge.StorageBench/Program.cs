using System.Diagnostics;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Bridge.LoadHarness;
using Bridge.StorageBench;

// The event log against raw Azure.Data.Tables calls, on an Azurite that the caller started (compare.sh does).
//   measure --connection <cs> [--events 20000] [--replay-events 20000] [--label after]
//       one round: raw ingest, Bridge ingest, raw ingest again; then raw paged reads and Bridge reads, alternately.
//       Prints one JSON line with every figure, for compare.
//   compare --connection <cs> --before <Bridge.StorageBench.dll of another build> [--rounds 6] [...measure options]
//       runs the other build's measure and this build's alternately, then prints a Markdown table of medians.
//   retention --connection <cs> [--events 20000] [--keep 1000] [--rounds 3]
//       the pruner removing all but the last --keep events of a stream, against raw batch deletes of as many rows;
//       prints a Markdown table with the requests per pruned event and per idle round.
//   bdn --connection <cs>
//       BenchmarkDotNet with MemoryDiagnoser: one append call of 100 events and one page of 1,000 events, against
//       the raw SDK calls that do the same storage work.
var options = Options.Parse(args.Skip(1));
switch (args.FirstOrDefault())
{
    case "measure":
        var measurement = await Measurement.RunAsync(options);
        Console.WriteLine(JsonSerializer.Serialize(measurement));
        return 0;

    case "compare":
        return await Comparison.RunAsync(options);

    case "retention":
        return await RetentionCost.RunAsync(options);

    case "bdn":
        Environment.SetEnvironmentVariable(StorageBenchmarks.ConnectionVariable, options.Required("connection"));
        BenchmarkDotNet.Running.BenchmarkRunner.Run<StorageBenchmarks>(DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithArtifactsPath(options.Text("artifacts") ?? "BenchmarkDotNet.Artifacts"));
        return 0;

    default:
        Console.Error.WriteLine("Usage: measure|compare|bdn --connection <Azurite connection string> [options]; see Program.cs.");
        return 2;
}

/// <summary>Process CPU time and managed allocations over a piece of work.</summary>
internal readonly struct CostMeter
{
    private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: true);
    private readonly long _started = Stopwatch.GetTimestamp();

    public CostMeter()
    {
    }

    /// <summary>Rate per second, CPU microseconds and allocated bytes per item, for <paramref name="items"/> items.</summary>
    public Cost Stop(long items) => new(
        items / Stopwatch.GetElapsedTime(_started).TotalSeconds,
        (Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalMicroseconds / items,
        (GC.GetTotalAllocatedBytes(precise: true) - _allocated) / (double)items);
}

internal sealed record Cost(double PerSecond, double CpuMicroseconds, double AllocatedBytes);
