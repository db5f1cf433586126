using System.Diagnostics;
using System.Net;
using System.Text;
using Azure.Messaging.ServiceBus;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Service Bus ingest: messages per second from the topic, through storage, to SSE subscribers, with one ingesting
/// server and with two, against HTTP batch publishing to the same server in the same run; and publish-to-browser
/// latency through the topic at a steady rate. The topic is the local Service Bus endpoint, so its own rate (the
/// messages it passes to a receiver that only completes them) is measured too: it bounds what the path can reach here.
/// </summary>
internal static class TopicScenario
{
    private const string Topic = "bench-events";
    private const string Subscription = "bridge";
    private const string BrokerOnlyTopic = "broker-only";

    public sealed record Result(double TopicToHttpRatio, double TwoServersToHttpRatio, double LatencyP50, double LatencyP99, int LatencySamples);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var events = options.Int("topic-events", 20_000);
        var streams = options.Int("topic-streams", 8);
        var batch = options.Int("topic-batch", 250);
        var rounds = options.Int("topic-rounds", 3);
        var samples = options.Int("topic-latency-samples", 300);
        var ratePerSecond = options.Int("topic-latency-rate", 20);
        var data = new string('x', options.Int("data-bytes", 200) - 16);
        var warmUp = options.Int("topic-warmup-events", 2_000);

        await using var azurite = await AzuriteProcess.StartAsync();
        await using var endpoint = await LocalServiceBusProcess.StartAsync(LocalServiceBusConfig.Write(
            new TopicConfig(Topic, [new SubscriptionConfig(Subscription, LockDuration: "PT1M")]),
            new TopicConfig(BrokerOnlyTopic, [new SubscriptionConfig(Subscription, LockDuration: "PT1M")])));
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ServiceBusConnection"] = endpoint.ConnectionString,
            ["ServiceBusTopic"] = Topic,
            ["ServiceBusSubscription"] = Subscription,
            ["Sse__MaxDurationSeconds"] = "3600",

            // A second server's events reach the first one's subscribers when its tail polls; 100 ms keeps that small
            // next to a measurement of several seconds. Every configuration runs with it.
            ["Tail__PollIntervalMilliseconds"] = "100",
        };
        await using var client = new ServiceBusClient(endpoint.ConnectionString);
        await using var server = await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly"));

        report.Progress($"Topic: {events} events of {data.Length + 16} bytes over {streams} streams, batches of {batch}, {rounds} rounds");
        await HttpBatchAsync(server, streams, warmUp, batch, data);
        await TopicAsync(client, server, streams, warmUp, batch, data);
        report.Progress("  warmed up");

        var measured = new List<(double Http, double Topic, double TwoServers, double BrokerOnly, Cpu HttpCpu, Cpu TopicCpu)>();
        for (var round = 1; round <= rounds; round++)
        {
            var (http, httpCpu) = await WithCpuAsync(events, server, endpoint, () => HttpBatchAsync(server, streams, events, batch, data));
            var (topic, topicCpu) = await WithCpuAsync(events, server, endpoint, () => TopicAsync(client, server, streams, events, batch, data));
            double twoServers;
            await using (await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly")))
            {
                twoServers = await TopicAsync(client, server, streams, events, batch, data);
            }

            var brokerOnly = await BrokerOnlyAsync(client, events, batch, data);
            measured.Add((http, topic, twoServers, brokerOnly, httpCpu, topicCpu));
            report.Progress($"  round {round}: HTTP batch {http:F0}/s, topic {topic:F0}/s ({topic / http:F2}), two servers {twoServers:F0}/s ({twoServers / http:F2}), the endpoint alone {brokerOnly:F0}/s; CPU µs per event, server/endpoint: HTTP {httpCpu}, topic {topicCpu}");
        }

        report.Progress($"Topic: latency of {samples} messages at {ratePerSecond}/s");
        var latencies = await LatencyAsync(client, server, samples, ratePerSecond);

        var topicRatio = IngestScenario.Median(measured.Select(m => m.Topic / m.Http));
        var twoRatio = IngestScenario.Median(measured.Select(m => m.TwoServers / m.Http));
        report.Heading("Service Bus ingest — topic to browser");
        report.Line($"{events} events of {data.Length + 16} bytes over {streams} streams per measurement; HTTP publishers post batches of {batch}, the producer sends Service Bus batches of {batch}; the rate counts from the first send to the last event's arrival at the SSE subscribers (one per stream, on the first server). Default ingest settings (2 receivers, batches of 250, prefetch 500), duplicate detection on the topic. {rounds} rounds; each ratio is taken within its round.");
        report.Line("");
        report.Table(
            ["Path", "Events/s (median)", "× HTTP batch, median", "Target", "Met"],
            [
                ["HTTP batch publish (baseline)", $"{IngestScenario.Median(measured.Select(m => m.Http)):F0}", "1.00", "", ""],
                ["Topic → one server", $"{IngestScenario.Median(measured.Select(m => m.Topic)):F0}", $"{topicRatio:F2}", "≥ 0.7", topicRatio >= 0.7 ? "yes" : "**no**"],
                ["Topic → two servers", $"{IngestScenario.Median(measured.Select(m => m.TwoServers)):F0}", $"{twoRatio:F2}", "reported", ""],
                ["The local endpoint alone (a receiver that only completes)", $"{IngestScenario.Median(measured.Select(m => m.BrokerOnly)):F0}", $"{IngestScenario.Median(measured.Select(m => m.BrokerOnly / m.Http)):F2}", "bound", ""],
            ]);
        report.Line("");
        report.Line("CPU per event, in microseconds, for each process (medians). All processes share the machine's cores, so the local endpoint's share is taken from the server's and Azurite's; on Azure, Service Bus runs elsewhere.");
        report.Line("");
        report.Table(
            ["Path", "Bridge server", "Local Service Bus endpoint"],
            [
                ["HTTP batch publish", $"{IngestScenario.Median(measured.Select(m => m.HttpCpu.Server)):F0}", $"{IngestScenario.Median(measured.Select(m => m.HttpCpu.Endpoint)):F0}"],
                ["Topic → one server", $"{IngestScenario.Median(measured.Select(m => m.TopicCpu.Server)):F0}", $"{IngestScenario.Median(measured.Select(m => m.TopicCpu.Endpoint)):F0}"],
            ]);
        report.Line("");
        report.Line($"Latency, one message at a time at {ratePerSecond}/s through the topic to an SSE subscriber on the ingesting server: p50 **{Measure.Percentile(latencies, 50):F1} ms**, p99 **{Measure.Percentile(latencies, 99):F1} ms** ({latencies.Count} samples). A receive that finds the subscription empty waits for the next message, so this is the broker's delivery plus one storage commit.");
        return new Result(topicRatio, twoRatio, Measure.Percentile(latencies, 50), Measure.Percentile(latencies, 99), latencies.Count);
    }

    /// <summary>Runs a measurement and returns its rate with the CPU time per event the server and the endpoint spent.</summary>
    private static async Task<(double Rate, Cpu Cpu)> WithCpuAsync(int events, BridgeServerProcess server, LocalServiceBusProcess endpoint, Func<Task<double>> measure)
    {
        var (serverBefore, endpointBefore) = (Measure.CpuTime(server.ProcessId), Measure.CpuTime(endpoint.Process.Id));
        var rate = await measure();
        return (rate, new Cpu(
            (Measure.CpuTime(server.ProcessId) - serverBefore).TotalMicroseconds / events,
            (Measure.CpuTime(endpoint.Process.Id) - endpointBefore).TotalMicroseconds / events));
    }

    /// <summary>Events per second from the first POST to the last arrival, one concurrent publisher per stream.</summary>
    private static async Task<double> HttpBatchAsync(BridgeServerProcess server, int streams, int events, int batch, string data)
    {
        var names = Names("http", streams);
        var perStream = events / streams;
        return await MeasureAsync(server, names, perStream, () => Task.WhenAll(names.Select(async stream =>
        {
            for (var first = 0; first < perStream; first += batch)
            {
                // With idempotency keys, as the topic path has (each message's MessageId), so both store the same.
                var body = string.Join(",", Enumerable.Range(first, Math.Min(batch, perStream - first)).Select(i => $"{{\"data\":\"mark-{i}.{data}\",\"idempotencyKey\":\"{Guid.NewGuid()}\"}}"));
                using var response = await server.Client.PostAsync($"/api/streams/{stream}/events/batch", new StringContent($"{{\"events\":[{body}]}}", Encoding.UTF8, "application/json"));
                response.EnsureSuccessStatusCode();
            }
        })));
    }

    /// <summary>Events per second from the first send to the last arrival, one concurrent Service Bus sender per stream.</summary>
    private static async Task<double> TopicAsync(ServiceBusClient client, BridgeServerProcess server, int streams, int events, int batch, string data)
    {
        var names = Names("topic", streams);
        var perStream = events / streams;
        return await MeasureAsync(server, names, perStream, () => Task.WhenAll(names.Select(async stream =>
        {
            await using var sender = client.CreateSender(Topic);
            for (var first = 0; first < perStream; first += batch)
            {
                await sender.SendMessagesAsync(Enumerable.Range(first, Math.Min(batch, perStream - first)).Select(i => Message(stream, $"mark-{i}.{data}")));
            }
        })));
    }

    /// <summary>
    /// The endpoint's own rate: the same sends to a topic of its own with the same settings, taken by one receiver that
    /// completes each message and stores nothing, from the first send to the last completion.
    /// </summary>
    private static async Task<double> BrokerOnlyAsync(ServiceBusClient client, int events, int batch, string data)
    {
        var started = Stopwatch.GetTimestamp();
        await using var receiver = client.CreateReceiver(BrokerOnlyTopic, Subscription, new ServiceBusReceiverOptions { PrefetchCount = 500 });
        var sending = Task.Run(async () =>
        {
            await using var sender = client.CreateSender(BrokerOnlyTopic);
            for (var first = 0; first < events; first += batch)
            {
                await sender.SendMessagesAsync(Enumerable.Range(first, Math.Min(batch, events - first)).Select(i => new ServiceBusMessage($"mark-{i}.{data}") { MessageId = Guid.NewGuid().ToString() }));
            }
        });
        var received = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (received < events && DateTime.UtcNow < deadline)
        {
            var taken = await receiver.ReceiveMessagesAsync(250, TimeSpan.FromMilliseconds(200));
            await Task.WhenAll(taken.Select(m => receiver.CompleteMessageAsync(m)));
            received += taken.Count;
        }

        await sending;
        return received / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Milliseconds from each send to its arrival, one message at a time at a steady rate.</summary>
    private static async Task<List<double>> LatencyAsync(ServiceBusClient client, BridgeServerProcess server, int samples, int ratePerSecond)
    {
        var stream = Names("latency", 1)[0];
        await using var swarm = new SseSwarm(samples);
        await swarm.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port), $"/api/streams/{stream}/events", 1, 1, _ => { }, TimeSpan.FromSeconds(30));
        await using var sender = client.CreateSender(Topic);
        await sender.SendMessageAsync(Message(stream, "warm-up"));
        await Task.Delay(TimeSpan.FromSeconds(1));

        var latencies = new List<double>();
        var interval = TimeSpan.FromSeconds(1.0 / ratePerSecond);
        for (var marker = 0; marker < samples; marker++)
        {
            var sent = Stopwatch.GetTimestamp();
            await sender.SendMessageAsync(Message(stream, $"mark-{marker}."));
            await swarm.WaitForMarkerAsync(marker, TimeSpan.FromSeconds(10));
            latencies.AddRange(swarm.Latencies(marker, sent));
            var spent = Stopwatch.GetElapsedTime(sent);
            if (spent < interval)
            {
                await Task.Delay(interval - spent);
            }
        }

        latencies.Sort();
        return latencies;
    }

    /// <summary>Subscribes to each stream, runs <paramref name="publish"/>, and returns events per second until the last arrival.</summary>
    private static async Task<double> MeasureAsync(BridgeServerProcess server, List<string> streams, int perStream, Func<Task> publish)
    {
        var swarms = new List<SseSwarm>();
        try
        {
            foreach (var stream in streams)
            {
                var swarm = new SseSwarm(perStream);
                swarms.Add(swarm);
                await swarm.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port), $"/api/streams/{stream}/events", 1, 1, _ => { }, TimeSpan.FromSeconds(30));
            }

            var started = Stopwatch.GetTimestamp();
            await publish();
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (Missing(swarms, perStream) is > 0 and var missing)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{missing} of {streams.Count * perStream} events did not reach their subscribers within three minutes.");
                }

                await Task.Delay(20);
            }

            var last = swarms.SelectMany(s => Enumerable.Range(0, perStream).SelectMany(marker => s.Latencies(marker, started))).Max();
            return streams.Count * perStream / (last / 1000);
        }
        finally
        {
            foreach (var swarm in swarms)
            {
                await swarm.DisposeAsync();
            }
        }
    }

    private static int Missing(List<SseSwarm> swarms, int perStream) =>
        swarms.Sum(swarm => Enumerable.Range(0, perStream).Count(marker => swarm.Received(marker) == 0));

    private static ServiceBusMessage Message(string stream, string data) =>
        new(data) { MessageId = Guid.NewGuid().ToString(), Subject = "bench", ApplicationProperties = { ["stream"] = stream } };

    private sealed record Cpu(double Server, double Endpoint)
    {
        public override string ToString() => $"{Server:F0}/{Endpoint:F0}";
    }

    private static List<string> Names(string purpose, int count) => [.. Enumerable.Range(0, count).Select(_ => TestNames.Stream(purpose))];
}
