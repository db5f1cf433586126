using System.Net;
using System.Text;
using Bridge.DevKit;

namespace Bridge.LoadHarness.Scenarios;

/// <summary>
/// Memory per subscription when many share HTTP/2 connections, beside one HTTP/1.1 connection per subscription, in
/// the same run (issue 14): one server for each, on the same Azurite, each measured by its RSS growth from a warmed-up
/// baseline; then one event is published and must reach every subscription.
/// </summary>
internal static class Http2Scenario
{
    private const int WarmUp = 200;

    public sealed record Result(double Http1BytesPerSubscription, double Http2BytesPerStream, bool AllDelivered);

    public static async Task<Result> RunAsync(Report report, Options options)
    {
        var subscriptions = options.Int("h2-subscriptions", 5_000);
        var streamsPerConnection = options.Int("h2-streams-per-connection", 500);
        var settle = TimeSpan.FromSeconds(options.Int("settle-seconds", 5));
        using var certificate = TestCertificate.Create();
        await using var azurite = await AzuriteProcess.StartAsync();
        var settings = new Dictionary<string, string>(certificate.KestrelSettings.Select(pair => KeyValuePair.Create(pair.Key.Replace(":", "__", StringComparison.Ordinal), pair.Value)))
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Kestrel__Limits__Http2__MaxStreamsPerConnection"] = $"{streamsPerConnection}",
        };

        report.Progress($"HTTP/2: {subscriptions} subscriptions over HTTP/1.1, then over HTTP/2 with up to {streamsPerConnection} streams per connection");
        var http1 = await MeasureAsync(report, settings, "http", HttpVersion.Version11, subscriptions, certificate, settle);
        var http2 = await MeasureAsync(report, settings, "https", HttpVersion.Version20, subscriptions, certificate, settle);

        report.Heading("HTTP/2 — memory per subscription");
        report.Line($"{subscriptions:N0} subscriptions to one stream after {WarmUp} warm-up ones, from one .NET HttpClient; server RSS growth divided by the subscriptions; then one event published to all.");
        report.Line("");
        report.Table(
            ["Protocol", "Connections", "Memory per subscription", "All received the event", "Target"],
            [
                ["HTTP/1.1, one connection each", $"{http1.Connections:N0}", $"{http1.BytesPer / 1024:F1} KB", http1.Delivered ? "yes" : "**no**", ""],
                [$"HTTP/2, up to {streamsPerConnection} streams per connection", $"{http2.Connections:N0}", $"{http2.BytesPer / 1024:F1} KB", http2.Delivered ? "yes" : "**no**", http2.BytesPer <= 3 * 1024 ? "≤ 3 KB: yes" : "≤ 3 KB: **no**"],
            ]);
        return new Result(http1.BytesPer, http2.BytesPer, http1.Delivered && http2.Delivered);
    }

    private static async Task<(double BytesPer, bool Delivered, int Connections)> MeasureAsync(
        Report report, Dictionary<string, string> settings, string scheme, Version version, int count, TestCertificate certificate, TimeSpan settle)
    {
        await using var server = await BridgeServerProcess.StartAsync(settings, scheme: scheme);
        var connections = 0;
        using var handler = certificate.TrustingHandler(() => Interlocked.Increment(ref connections));
        handler.EnableMultipleHttp2Connections = true;
        handler.MaxConnectionsPerServer = int.MaxValue;
        using var http = new HttpClient(handler)
        {
            BaseAddress = server.BaseAddress,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var stream = $"h2-{Guid.NewGuid():N}";
        var open = new List<(HttpResponseMessage Response, Stream Body)>();
        try
        {
            await OpenAsync(http, stream, WarmUp, open);
            await Task.Delay(settle);
            var before = Measure.ResidentBytes(server.ProcessId);
            await OpenAsync(http, stream, count, open);
            await Task.Delay(settle);
            var after = Measure.ResidentBytes(server.ProcessId);
            var bytesPer = (after - before) / (double)count;
            report.Progress($"  {version}: {count} subscriptions on {connections} connection(s): {bytesPer / 1024:F1} KB each");

            const string marker = "published-to-all";
            using (var publish = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events") { Content = new StringContent(marker), Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
            using (var answer = await http.SendAsync(publish))
            {
                answer.EnsureSuccessStatusCode();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var delivered = await Task.WhenAll(open.Select(subscription => ReceivesAsync(subscription.Body, marker, deadline.Token)));
            return (bytesPer, delivered.All(received => received), connections);
        }
        finally
        {
            foreach (var (response, body) in open)
            {
                await body.DisposeAsync();
                response.Dispose();
            }
        }
    }

    /// <summary>Opens <paramref name="count"/> subscriptions, 100 at a time.</summary>
    private static async Task OpenAsync(HttpClient http, string stream, int count, List<(HttpResponseMessage, Stream)> open)
    {
        foreach (var chunk in Enumerable.Range(0, count).Chunk(100))
        {
            open.AddRange(await Task.WhenAll(chunk.Select(async _ =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"/api/streams/{stream}/events")
                {
                    Version = http.DefaultRequestVersion,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };
                var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                return (response, await response.Content.ReadAsStreamAsync());
            })));
        }
    }

    private static async Task<bool> ReceivesAsync(Stream body, string marker, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        try
        {
            while (!seen.ToString().Contains(marker, StringComparison.Ordinal))
            {
                var read = await body.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return false;
                }

                seen.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
