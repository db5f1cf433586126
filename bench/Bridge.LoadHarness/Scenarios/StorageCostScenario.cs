using System.Net;
using Bridge.Events;
using Bridge.TableStorage;
using Azure.Data.Tables;
using Bridge.DevKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Target 5: the Table requests a server makes to deliver one stream live, idle and busy, with 1 and with 1,000
/// clients. The server reaches storage through a relay that counts its requests; the publisher of the "busy" phases
/// writes directly (another process's writes, which the tail must read) or through the server (its own writes).
/// </summary>
internal static class StorageCostScenario
{
    /// <summary>Per phase: its name, the clients connected, and the tail's reads per second.</summary>
    public sealed record Result(IReadOnlyList<(string Phase, int Clients, double ReadsPerSecond)> Phases);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var window = TimeSpan.FromSeconds(options.Int("window-seconds", 20));
        var warmUp = TimeSpan.FromSeconds(options.Int("warmup-seconds", 2));
        var manyClients = options.Int("clients", 1_000);

        await using var azurite = await AzuriteProcess.StartAsync();
        await using var relay = TcpRelay.Start(azurite.Port);
        var requests = relay.Count("x-ms-date:");
        var reads = relay.Count("GET /");
        await using var server = await BridgeServerProcess.StartAsync(assembly: options.Text("server-assembly"), settings: new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = AzuriteProcess.ConnectionStringFor(relay.Port),
            ["Sse__MaxDurationSeconds"] = "3600",
        });
        await using var remoteWriter = new TableEventLog(
            new TableServiceClient(azurite.ConnectionString),
            Microsoft.Extensions.Options.Options.Create(new TableEventLogOptions()),
            TimeProvider.System,
            NullLogger<TableEventLog>.Instance, new Bridge.Telemetry.BridgeMetrics());
        var stream = StreamName.Parse("cost");
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port);

        var phases = new (string Name, int Clients, Func<CancellationToken, Task> Load)[]
        {
            ("idle", 1, _ => Task.CompletedTask),
            ("idle", manyClients, _ => Task.CompletedTask),
            ("busy, events from another process (50/s)", 1, token => PublishAsync(events => remoteWriter.AppendAsync(stream, events, token), token)),
            ("busy, events from another process (50/s)", manyClients, token => PublishAsync(events => remoteWriter.AppendAsync(stream, events, token), token)),
            ("busy, events published through this server (50/s)", manyClients, token => PublishAsync(events => PostAsync(server.Client, stream, events.Count, token), token)),
        };

        var rows = new List<string[]>();
        var phasesMeasured = new List<(string, int, double)>();
        double idleRate = 0;
        foreach (var (name, clients, load) in phases)
        {
            await using var swarm = new SseSwarm(1);
            await swarm.ConnectAsync(endpoint, $"/api/streams/{stream}/events", clients, 4, _ => { }, TimeSpan.FromMinutes(2));
            await Task.Delay(warmUp);
            using var stop = new CancellationTokenSource(window);
            var (requestsBefore, readsBefore) = (requests.Value, reads.Value);
            var loading = load(stop.Token);
            try
            {
                await Task.Delay(window, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // The window is over.
            }

            await loading.ContinueWith(_ => { }, TaskScheduler.Default);
            var requestRate = (requests.Value - requestsBefore) / window.TotalSeconds;
            var readRate = (reads.Value - readsBefore) / window.TotalSeconds;
            idleRate = name == "idle" ? Math.Max(idleRate, readRate) : idleRate;
            report.Progress($"  {name}, {swarm.Count} clients: {requestRate:F2} requests/s, of which reads {readRate:F2}/s");
            rows.Add([name, $"{swarm.Count:N0}", $"{readRate:F2}", $"{requestRate:F2}"]);
            phasesMeasured.Add((name, swarm.Count, readRate));
        }

        report.Heading("Target 5 — storage cost of live delivery");
        report.Line($"Table requests made by one server process for one stream, counted by a relay between it and Azurite over {window.TotalSeconds:F0}-second windows; poll interval 1,000 ms (the default).");
        report.Table(["Phase", "Clients", "Tail reads/s (GET)", "All requests/s (incl. its own commits)"], rows);
        report.Line($"Idle cost: {idleRate:F2} reads/s, about **{idleRate * 86_400 * 30 / 1e6:F2} million transactions per stream per instance per 30-day month**, whatever the number of clients.");
        return new Result(phasesMeasured);
    }

    private static async Task PublishAsync(Func<List<NewEvent>, Task> append, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await append([.. Enumerable.Range(0, 5).Select(i => new NewEvent(EventType.Message, "busy"u8.ToArray()))]);
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task PostAsync(HttpClient client, StreamName stream, int count, CancellationToken cancellationToken)
    {
        using var content = System.Net.Http.Json.JsonContent.Create(new { events = Enumerable.Range(0, count).Select(_ => new { data = "busy" }) });
        using var response = await client.PostAsync($"/api/streams/{stream}/events/batch", content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
