using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>Events published through a process reach that process's subscribers without waiting for a storage poll.</summary>
public class LocalDeliveryTests : IAsyncLifetime
{
    private BridgeTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, new Dictionary<string, string?>
        {
            // No poll can happen during this test, so anything delivered came through the in-process commit feed.
            ["Tail:PollIntervalMilliseconds"] = "60000",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_publish_wakes_the_local_tail_without_a_poll()
    {
        var stream = TestNames.Stream("local");
        await using var connection = await SseConnection.OpenAsync(_server.Client, $"/api/streams/{stream}/events?lastEventId=0");
        var reading = connection.ReadEventsAsync(3, Http.Within(20));
        await SubscribeTests.Eventually(() => _server.Services.GetService(typeof(Bridge.Streaming.StreamHub)) is Bridge.Streaming.StreamHub { Subscribers: > 0 });

        for (var i = 1; i <= 3; i++)
        {
            await Http.PublishIdAsync(_server.Client, stream, $"local {i}");
        }

        Assert.Equal(["local 1", "local 2", "local 3"], (await reading).Select(e => e.Data));
    }
}
