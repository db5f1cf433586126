using System.Net;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// The server as a user starts it: its own process, reading the local.settings.json it ships with, and none of the
/// limits that tests raise for load generators.
/// </summary>
public class ShippedSettingsTests
{
    [Fact]
    public async Task A_backend_publishing_from_8_threads_gets_no_429_and_1000_browsers_share_one_address()
    {
        await using var server = await BridgeServerProcess.StartAsync(
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = (await AzuriteProcess.Shared).ConnectionString },
            productLimits: true);
        var stream = TestNames.Stream("shipped");

        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(thread => Task.Run(async () =>
        {
            var mine = new List<HttpStatusCode>();
            for (var i = 0; i < 40; i++)
            {
                using var response = await Api.PublishAsync(server.Client, stream, $"{thread}-{i}");
                mine.Add(response.StatusCode);
            }

            return mine;
        })));

        Assert.All(statuses.SelectMany(mine => mine), status => Assert.Equal(HttpStatusCode.Created, status));
        var subscribers = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                subscribers.Add(await server.Client.GetAsync($"/api/streams/{stream}/events", HttpCompletionOption.ResponseHeadersRead, Waits.Within(10)));
            }

            Assert.All(subscribers, subscriber => Assert.Equal(HttpStatusCode.OK, subscriber.StatusCode));
        }
        finally
        {
            subscribers.ForEach(subscriber => subscriber.Dispose());
        }
    }
}
