using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Issue 16, finding 5: memory over a long run. Many subscribers that reconnect whenever their response reaches its
/// lifetime, as browsers do, and a steady trickle of events, for many minutes. The server's resident memory is sampled
/// every minute; the target is that it levels off: RSS at the end within 1.2 × RSS at minute 5 of the same run.
/// </summary>
internal static class SoakScenario
{
    public static async Task RunAsync(Report report, Options options)
    {
        var subscribers = options.Int("subscribers", 5_000);
        var minutes = options.Int("minutes", 30);
        var eventsPerSecond = options.Int("events-per-second", 1);
        var sourceAddresses = options.Int("source-addresses", 4);

        await using var azurite = await AzuriteProcess.StartAsync();
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString };
        foreach (var (name, value) in options.Pairs("server-env"))
        {
            settings[name] = value;
        }

        await using var server = await BridgeServerProcess.StartAsync(settings, assembly: options.Text("server-assembly"));
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.BaseAddress.Port);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
        var clients = new ReconnectingClients(endpoint, "/api/streams/soak/events");
        var holding = clients.HoldAsync(subscribers, sourceAddresses, stop.Token);
        var publishing = PublishAsync(server.Client, eventsPerSecond, stop.Token);

        var samples = new List<(int Minute, long Rss, long Reconnections, long Refusals)>();
        var started = Stopwatch.StartNew();
        for (var minute = 1; minute <= minutes; minute++)
        {
            var due = TimeSpan.FromMinutes(minute) - started.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            var rss = Measure.ResidentBytes(server.ProcessId);
            samples.Add((minute, rss, clients.Reconnections, clients.Refusals));
            report.Progress($"Soak: minute {minute}: RSS {rss / 1048576.0:F0} MiB, {clients.Open} open, {clients.Reconnections} reconnections, {clients.Refusals} refused or failed");
        }

        await Task.WhenAll(holding, publishing);
        var early = Math.Min(5, minutes);
        var atEarly = samples.First(sample => sample.Minute == early).Rss;
        var atEnd = samples[^1].Rss;
        report.Heading("Issue 16 finding 5 — resident memory over a soak");
        report.Line($"{subscribers:N0} SSE subscribers on one stream, each reconnecting whenever its response ends (the server's default lifetime), {eventsPerSecond} event(s) per second published over HTTP, for {minutes} minutes. Server settings: {(options.Text("server-env") ?? "defaults")}. RSS is the server process's VmRSS.");
        report.Table(
            ["Minute", "RSS", "Reconnections so far", "Refused or failed so far"],
            samples.Where(sample => sample.Minute is 1 or 5 || sample.Minute % 5 == 0 || sample.Minute == minutes)
                .Select(sample => new[] { $"{sample.Minute}", $"{sample.Rss / 1048576.0:F0} MiB", $"{sample.Reconnections:N0}", $"{sample.Refusals:N0}" }));
        var ratio = atEnd / (double)atEarly;
        report.Line($"RSS at minute {minutes} / RSS at minute {early}: **{ratio:F2}** (target ≤ 1.2: {(ratio <= 1.2 ? "met" : "**not met**")}).");
    }

    private static async Task PublishAsync(HttpClient client, int perSecond, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
        var sequence = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                using var _ = await client.PostAsync("/api/streams/soak/events", new StringContent($"event {++sequence}: {new string('x', 200)}"), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The soak is over.
        }
    }

    /// <summary>
    /// Subscribers on raw sockets that only drain what they receive, and open a new response (with no cursor; memory,
    /// not delivery, is measured here) as soon as one ends, as a browser's EventSource does after its retry delay.
    /// </summary>
    private sealed class ReconnectingClients(IPEndPoint server, string path)
    {
        private readonly byte[] _request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n");
        private long _reconnections;
        private long _refusals;
        private long _open;

        public long Reconnections => Interlocked.Read(ref _reconnections);

        public long Refusals => Interlocked.Read(ref _refusals);

        public long Open => Interlocked.Read(ref _open);

        public async Task HoldAsync(int count, int sourceAddresses, CancellationToken stop)
        {
            var holders = new List<Task>(count);
            for (var i = 0; i < count; i++)
            {
                var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + (i % sourceAddresses)) });
                holders.Add(Task.Run(() => HoldOneAsync(source, stop), CancellationToken.None));
                if (i % 200 == 199)
                {
                    // A few hundred at a time, so the server's accept queue keeps up.
                    await Task.Delay(50, CancellationToken.None);
                }
            }

            await Task.WhenAll(holders);
        }

        private async Task HoldOneAsync(IPAddress source, CancellationToken stop)
        {
            var buffer = new byte[4096];
            var first = true;
            while (!stop.IsCancellationRequested)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(server, stop);
                    await socket.SendAsync(_request, SocketFlags.None, stop);
                    if (!first)
                    {
                        Interlocked.Increment(ref _reconnections);
                    }

                    first = false;
                    Interlocked.Increment(ref _open);
                    try
                    {
                        await ReadToEndOfResponseAsync(socket, buffer, stop);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _open);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref _refusals);
                }

                // A browser waits for the retry hint before it reconnects.
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        /// <summary>
        /// Reads until the response's last chunk (<c>0\r\n\r\n</c>; Bridge's SSE never carries a CR, so only the
        /// terminator can end so), or until the server closes the connection.
        /// </summary>
        private static async Task ReadToEndOfResponseAsync(Socket socket, byte[] buffer, CancellationToken stop)
        {
            var lastFive = new byte[5];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
            {
                var received = buffer.AsSpan(0, read);
                if (read >= lastFive.Length)
                {
                    received[^lastFive.Length..].CopyTo(lastFive);
                }
                else
                {
                    lastFive.AsSpan(read).CopyTo(lastFive);
                    received.CopyTo(lastFive.AsSpan(lastFive.Length - read));
                }

                if (lastFive.AsSpan().SequenceEqual("0\r\n\r\n"u8))
                {
                    return;
                }
            }
        }
    }
}
