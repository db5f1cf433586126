using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>A server killed mid-stream and started again: the page comes back by itself and loses nothing.</summary>
[Collection(ChromiumCollection.Name)]
public class ServerRestartTests(Chromium chromium)
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task The_page_resumes_after_a_restart_with_the_events_published_elsewhere_meanwhile(int streamCount)
    {
        var azurite = await AzuriteProcess.Shared;
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__RetryMilliseconds"] = "500",
        };
        var port = FreePort.Next();
        var first = await BridgeServerProcess.StartAsync(settings, port);
        await using var other = await BridgeServerProcess.StartAsync(settings);
        // One stream on its own URL, or several on one response: event i goes to stream i % streamCount.
        var streams = Enumerable.Range(0, streamCount).Select(_ => TestNames.Stream("browser-restart")).ToArray();
        var path = streamCount == 1
            ? $"/api/streams/{streams[0]}/events?lastEventId=0"
            : $"/api/events?{string.Join('&', streams.Select(stream => $"stream={stream}"))}&lastEventId=0";
        string StreamOf(int i) => streams[i % streamCount];
        var page = await chromium.NewPageAsync();
        var source = await NativeEventSource.OpenAsync(page, first.BaseAddress, path);
        await source.WaitForOpenAsync();

        for (var i = 1; i <= 10; i++)
        {
            await Publisher.PublishAsync(first.Client, StreamOf(i), $"e{i}");
        }

        await source.WaitForEventsAsync(10);
        await first.DisposeAsync();
        for (var i = 11; i <= 20; i++)
        {
            await Publisher.PublishAsync(other.Client, StreamOf(i), $"e{i}");
        }

        await using var restarted = await BridgeServerProcess.StartAsync(settings, port);
        for (var i = 21; i <= 30; i++)
        {
            await Publisher.PublishAsync(restarted.Client, StreamOf(i), $"e{i}");
        }

        await source.WaitForEventsAsync(30);
        var log = await source.ReadAsync();
        Assert.Equal(30, log.Events.Count);
        foreach (var stream in streams)
        {
            var expected = Enumerable.Range(1, 30).Where(i => StreamOf(i) == stream).Select(i => $"e{i}");
            Assert.Equal(expected, log.Events.Where(e => streamCount == 1 || e.Stream == stream).Select(e => e.Data));
        }

        Assert.True(log.Opens.Count >= 2, "The browser reopened the stream after the restart.");
    }
}
