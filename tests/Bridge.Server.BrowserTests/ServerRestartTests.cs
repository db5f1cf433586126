using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>A server killed mid-stream and started again: the page comes back by itself and loses nothing.</summary>
[Collection(ChromiumCollection.Name)]
public class ServerRestartTests(Chromium chromium)
{
    [Fact]
    public async Task The_page_resumes_after_a_restart_with_the_events_published_elsewhere_meanwhile()
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
        var stream = TestNames.Stream("browser-restart");
        var page = await chromium.NewPageAsync();
        var source = await NativeEventSource.OpenAsync(page, first.BaseAddress, $"/api/streams/{stream}/events?lastEventId=0");
        await source.WaitForOpenAsync();

        for (var i = 1; i <= 10; i++)
        {
            await Publisher.PublishAsync(first.Client, stream, $"e{i}");
        }

        await source.WaitForEventsAsync(10);
        await first.DisposeAsync();
        for (var i = 11; i <= 20; i++)
        {
            await Publisher.PublishAsync(other.Client, stream, $"e{i}");
        }

        await using var restarted = await BridgeServerProcess.StartAsync(settings, port);
        for (var i = 21; i <= 30; i++)
        {
            await Publisher.PublishAsync(restarted.Client, stream, $"e{i}");
        }

        await source.WaitForEventsAsync(30);
        var log = await source.ReadAsync();
        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"e{i}"), log.Events.Select(e => e.Data));
        Assert.True(log.Opens.Count >= 2, "The browser reopened the stream after the restart.");
    }
}
