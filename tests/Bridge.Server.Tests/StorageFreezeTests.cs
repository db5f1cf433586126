using System.Net;
using Bridge.DevKit;
using Bridge.Hub;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Server.Tests;

/// <summary>
/// Storage that stops answering without refusing anything (Azurite frozen with SIGSTOP; on Azure, a slow period or a
/// network that drops packets): every client still gets its answer in a bounded time.
/// </summary>
public class StorageFreezeTests
{
    [Fact]
    public async Task While_storage_is_frozen_heartbeats_lifetimes_health_publishes_and_new_subscribers_keep_their_times()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        await using var server = await BridgeTestServer.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:OperationTimeoutSeconds"] = "2",
            ["Sse:HeartbeatSeconds"] = "1",
            ["Sse:MaxDurationSeconds"] = "6",
            ["Sse:RetryMilliseconds"] = "500",
        });
        var followed = TestNames.Stream("frozen");
        Assert.Equal(1, await Api.PublishIdAsync(server.Client, followed, "before the freeze"));
        await using var live = await SseConnection.OpenAsync(server.Client, $"/api/streams/{followed}/events");
        await Waits.Eventually(() => server.Services.GetRequiredService<StreamHub>().Subscribers == 1);

        azurite.Process.Signal(ChildProcess.SigStop);
        try
        {
            // Each answer below must come while storage is still frozen; a client that waited for storage would wait
            // for minutes, past these limits.
            using (var health = await server.Client.GetAsync("/api/health", Waits.Within(30)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            }

            using (var publish = await server.Client.PostAsync($"/api/streams/{followed}/events", new StringContent("during the freeze"), Waits.Within(30)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, publish.StatusCode);
                Assert.NotNull(publish.Headers.RetryAfter);
                Assert.Equal("urn:bridge:problem:storage-unavailable", (await Api.ProblemAsync(publish)).GetProperty("type").GetString());
            }

            await using (var fresh = await SseConnection.OpenAsync(server.Client, $"/api/streams/{TestNames.Stream("unfollowed")}/events", cancellationToken: Waits.Within(30)))
            {
                Assert.Empty(await fresh.ReadToEndAsync(Waits.Within(30)));
                Assert.Equal(HttpStatusCode.OK, fresh.Response.StatusCode);
                Assert.Equal(500, fresh.RetryMilliseconds);
                Assert.Contains(": storage is unavailable", fresh.Received, StringComparison.Ordinal);
            }

            // The subscriber that was live before the freeze had heartbeats throughout, and its response ended at
            // its lifetime.
            Assert.Empty(await live.ReadToEndAsync(Waits.Within(30)));
            Assert.False(live.CutOff);
            Assert.True(live.Received.Split(": heartbeat").Length > 2, "Fewer than two heartbeats arrived while storage was frozen.");
        }
        finally
        {
            azurite.Process.Signal(ChildProcess.SigCont);
        }

        // Storage is back: publishing works again, gap-free (the publish during the freeze may have been stored).
        var id = await Api.PublishIdAsync(server.Client, followed, "after the freeze");
        Assert.InRange(id, 2, 3);
    }
}
