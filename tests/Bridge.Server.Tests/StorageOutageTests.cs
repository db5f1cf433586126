using System.Net;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>What clients see while storage is unreachable: answers that keep browsers retrying, and clear errors.</summary>
public class StorageOutageTests
{
    [Fact]
    public async Task Subscribers_get_a_200_that_asks_them_to_retry_and_publishers_a_503_problem()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var server = await BridgeTestServer.StartAsync(AzuriteProcess.ConnectionStringFor(relay.Port), new Dictionary<string, string?>
        {
            ["Storage:MaxRetries"] = "0",
            ["Sse:RetryMilliseconds"] = "500",
        });
        var stream = TestNames.Stream("outage");
        relay.Refuse();

        await using (var connection = await SseConnection.OpenAsync(server.Client, $"/api/streams/{stream}/events"))
        {
            var events = await connection.ReadToEndAsync(Waits.Within(30));
            Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
            Assert.Empty(events);
            Assert.Equal(500, connection.RetryMilliseconds);
            Assert.Contains(": storage is unavailable", connection.Received, StringComparison.Ordinal);
        }

        using (var publish = await Api.PublishAsync(server.Client, stream, "x"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, publish.StatusCode);
            Assert.NotNull(publish.Headers.RetryAfter);
            Assert.Equal("urn:bridge:problem:storage-unavailable", (await Api.ProblemAsync(publish)).GetProperty("type").GetString());
        }

        using (var health = await server.Client.GetAsync("/api/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }

        relay.Restore();
        Assert.Equal(1, await Api.PublishIdAsync(server.Client, stream, "x"));
    }
}
