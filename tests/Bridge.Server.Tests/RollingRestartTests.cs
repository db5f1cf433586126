using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// A deploy as an orchestrator runs it: two instances behind one address, each in turn sent SIGTERM and replaced,
/// while a producer publishes and a subscriber follows. The subscriber must see every event exactly once, in order,
/// and be told by each ending response to come back at once.
/// </summary>
public class RollingRestartTests
{
    private const int ShutdownRetryMilliseconds = 300;

    [Fact]
    public async Task A_subscriber_followed_through_a_rolling_restart_of_two_instances_sees_each_event_once_in_order()
    {
        var azurite = await AzuriteProcess.Shared;
        var stream = TestNames.Stream("rolling");
        var instances = new List<BridgeServerProcess> { await StartAsync(azurite), await StartAsync(azurite) };
        try
        {
            using var done = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var producing = Task.Run(async () =>
            {
                for (var i = 1; i <= 60; i++)
                {
                    await PublishToAnyAsync(instances, stream, i, done.Token);
                    await Task.Delay(50, done.Token);
                }
            });
            var received = new List<SseEvent>();
            var shutdownRetries = new List<int?>();
            // Done at the 60th event: an event can reach the subscriber before its publisher has the answer, so waiting
            // for the producer too could leave the follower waiting for an event that never comes.
            var following = FollowAsync(instances, stream, received, shutdownRetries, () => received.Count >= 60, done.Token);

            // Replace each instance in turn, as a rolling deploy does: start the new one, then stop the old one, which
            // is the one the subscriber follows.
            for (var round = 0; round < 2; round++)
            {
                await Task.Delay(700, done.Token);
                var replacement = await StartAsync(azurite);
                BridgeServerProcess old;
                lock (instances)
                {
                    old = instances[0];
                    instances.Add(replacement);
                    instances.Remove(old);
                }

                await old.StopAsync();
                Assert.True(old.HasExited, "An instance sent SIGTERM did not exit within 30 s.");
                await old.DisposeAsync();
            }

            await producing;
            await following;

            Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), received.Select(e => e.Id));
            Assert.Equal(Enumerable.Range(1, 60).Select(i => $"event {i}"), received.Select(e => e.Data));
            Assert.NotEmpty(shutdownRetries);
            Assert.All(shutdownRetries, retry => Assert.InRange(retry ?? int.MaxValue, 0, ShutdownRetryMilliseconds));
        }
        finally
        {
            foreach (var instance in instances.ToList())
            {
                await instance.DisposeAsync();
            }
        }
    }

    private static Task<BridgeServerProcess> StartAsync(AzuriteProcess azurite) =>
        BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__ShutdownRetryMilliseconds"] = $"{ShutdownRetryMilliseconds}",
            ["Tail__PollIntervalMilliseconds"] = "100",
        });

    /// <summary>Publishes with an idempotency key to whichever instance answers, as a producer behind a balancer retries.</summary>
    private static async Task PublishToAnyAsync(List<BridgeServerProcess> instances, string stream, int number, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            BridgeServerProcess instance;
            lock (instances)
            {
                instance = instances[attempt % instances.Count];
            }

            try
            {
                using var response = await Api.PublishAsync(instance.Client, stream, $"event {number}", key: $"event-{number}");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // That instance is stopping or gone; the next one answers.
            }

            Assert.True(attempt < 100, $"Event {number} could not be published to any instance.");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>
    /// Follows the stream through whichever instance is up, reconnecting with the last id after each response ends, and
    /// records the <c>retry:</c> each response left when its instance was stopping.
    /// </summary>
    private static async Task FollowAsync(
        List<BridgeServerProcess> instances,
        string stream,
        List<SseEvent> received,
        List<int?> shutdownRetries,
        Func<bool> finished,
        CancellationToken cancellationToken)
    {
        var lastEventId = "0";
        while (!finished())
        {
            BridgeServerProcess instance;
            lock (instances)
            {
                instance = instances[0];
            }

            try
            {
                await using var connection = await SseConnection.OpenAsync(instance.Client, $"/api/streams/{stream}/events", lastEventId, cancellationToken);
                if (!connection.Response.IsSuccessStatusCode)
                {
                    continue;
                }

                while (!finished() && await connection.ReadEventAsync(cancellationToken) is { } next)
                {
                    received.Add(next);
                    lastEventId = connection.LastEventId;
                }

                lastEventId = connection.LastEventId;
                if (!finished() && connection.RetryMilliseconds != 3000)
                {
                    // Not the usual hint from the response's start: this response ended because its instance stopped.
                    shutdownRetries.Add(connection.RetryMilliseconds);
                }
            }
            catch (HttpRequestException)
            {
                // The instance went away before answering; the balancer sends the next attempt elsewhere.
                await Task.Delay(50, cancellationToken);
            }
        }
    }
}
