using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// When every response of a busy stream ends at about the same time, its clients reconnect together, each a little
/// behind the head. The tail's memory of recent events serves them, so the storm costs no storage reads.
/// </summary>
public class ReconnectStormTests
{
    [Fact]
    public async Task A_thousand_clients_reconnecting_behind_the_head_by_up_to_100_events_cause_no_storage_query()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var server = await BridgeTestServer.StartAsync(AzuriteProcess.ConnectionStringFor(relay.Port));
        var stream = TestNames.Stream("storm");
        var url = $"/api/streams/{stream}/events";

        // A client follows the stream while 300 events are published, so the tail is up and holds them.
        await using (var follower = await SseConnection.OpenAsync(server.Client, url))
        {
            var following = follower.ReadEventsAsync(300, Waits.Within(60));
            for (var published = 0; published < 300; published += 50)
            {
                using var content = System.Net.Http.Json.JsonContent.Create(new { events = Enumerable.Range(published + 1, 50).Select(n => new { data = $"e{n}" }) });
                (await server.Client.PostAsync($"{url}/batch", content)).EnsureSuccessStatusCode();
            }

            await following;
        }

        // Range queries carry "RowKey gt" in their filter; head reads and writes do not.
        var rangeQueries = relay.Count("%20gt%20");
        var storm = await Task.WhenAll(Enumerable.Range(1, 1_000).Select(async client =>
        {
            var behind = 1 + (client % 100);
            await using var connection = await SseConnection.OpenAsync(server.Client, url, (300 - behind).ToString(System.Globalization.CultureInfo.InvariantCulture), Waits.Within(60));
            return (Behind: behind, Events: await connection.ReadEventsAsync(behind, Waits.Within(60)));
        }));

        Assert.All(storm, client => Assert.Equal(Enumerable.Range(301 - client.Behind, client.Behind).Select(i => (long)i), client.Events.Select(e => e.Id)));
        Assert.Equal(0, rangeQueries.Value);
    }
}
