using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>A native EventSource across many server-initiated closes receives exactly the published sequence.</summary>
[Collection(ChromiumCollection.Name)]
public class ResumeAcrossLifetimesTests(Chromium chromium)
{
    // Longer than Chromium's own default reconnection delay (3 s), so a gap at least this long shows the browser
    // used the server's retry: hint rather than its default.
    private const int RetryMilliseconds = 3_500;

    [Fact]
    public async Task The_page_reconnects_after_every_close_using_the_retry_hint_and_misses_nothing()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var server = await BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "2",
            ["Sse__RetryMilliseconds"] = RetryMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var stream = TestNames.Stream("browser-resume");
        var page = await chromium.NewPageAsync();
        var source = await NativeEventSource.OpenAsync(page, server.BaseAddress, $"/api/streams/{stream}/events?lastEventId=0");
        await source.WaitForOpenAsync();

        // Publish steadily until the browser has lived through at least three server-initiated closes (bounded).
        var published = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while ((await source.ReadAsync()).Errors.Count < 3 && published < 400)
        {
            deadline.Token.ThrowIfCancellationRequested();
            await Publisher.PublishAsync(server.Client, stream, $"event {++published}");
            await Task.Delay(100, deadline.Token);
        }

        await source.WaitForEventsAsync(published);
        var log = await source.ReadAsync();
        Assert.Equal(Enumerable.Range(1, published).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), log.Events.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(1, published).Select(i => $"event {i}"), log.Events.Select(e => e.Data));
        Assert.True(log.Errors.Count >= 3, $"Only {log.Errors.Count} closes.");
        Assert.True(log.Opens.Count >= log.Errors.Count, "The browser reopened after every close.");
        for (var close = 0; close < log.Errors.Count && close + 1 < log.Opens.Count; close++)
        {
            var waited = log.Opens[close + 1] - log.Errors[close];
            Assert.True(waited >= RetryMilliseconds * 0.9, $"Reconnection {close + 1} came after {waited:F0} ms, before the retry hint of {RetryMilliseconds} ms.");
        }
    }
}
