using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>A page connected to one instance receives what is published through another.</summary>
[Collection(ChromiumCollection.Name)]
public class CrossInstanceTests(Chromium chromium)
{
    [Fact]
    public async Task Events_published_through_instance_B_reach_a_page_on_instance_A()
    {
        var azurite = await AzuriteProcess.Shared;
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString };
        await using var a = await BridgeServerProcess.StartAsync(settings);
        await using var b = await BridgeServerProcess.StartAsync(settings);
        var stream = TestNames.Stream("browser-cross");
        var page = await chromium.NewPageAsync();
        var source = await NativeEventSource.OpenAsync(page, a.BaseAddress, $"/api/streams/{stream}/events");
        await source.WaitForOpenAsync();

        for (var i = 1; i <= 10; i++)
        {
            await Publisher.PublishAsync(b.Client, stream, $"from B {i}", type: null);
        }

        await source.WaitForEventsAsync(10);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"from B {i}"), (await source.ReadAsync()).Events.Select(e => e.Data));
    }
}
