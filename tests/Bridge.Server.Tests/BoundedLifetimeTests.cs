using System.Net;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>Responses end by themselves, and a client that reconnects with its last id loses nothing.</summary>
public class BoundedLifetimeTests : IAsyncLifetime
{
    private BridgeTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, new Dictionary<string, string?>
        {
            ["Sse:MaxDurationSeconds"] = "2",
            ["Sse:RetryMilliseconds"] = "100",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_response_ends_cleanly_by_itself()
    {
        await using var connection = await SseConnection.OpenAsync(_server.Client, $"/api/streams/{TestNames.Stream("ends")}/events");

        var events = await connection.ReadToEndAsync(Waits.Within(30));

        Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
        Assert.True(connection.Ended);
        Assert.Empty(events);
    }

    [Fact]
    public async Task A_client_reconnecting_over_several_lifetimes_receives_exactly_the_published_sequence()
    {
        var stream = TestNames.Stream("cycles");
        const int total = 120;
        var client = new ReconnectingSseClient(_server.Client, $"/api/streams/{stream}/events?lastEventId=0");
        var receiving = client.RunAsync(c => c.Events.Count >= total, Waits.Within(60));

        for (var i = 1; i <= total; i++)
        {
            await Api.PublishIdAsync(_server.Client, stream, $"event {i}");
            await Task.Delay(50);
        }

        await receiving;
        Assert.Equal(Enumerable.Range(1, total).Select(i => $"event {i}"), client.Events.Select(e => e.Data));
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), client.Events.Select(e => e.Id));
        Assert.True(client.Connections >= 3, $"Only {client.Connections} connections: the server did not close them.");
        Assert.All(client.RetryHints, hint => Assert.Equal(100, hint));
    }
}
