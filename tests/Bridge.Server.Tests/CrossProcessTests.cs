using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>Several server processes on one storage account, as several instances of the service would run.</summary>
public class CrossProcessTests : IAsyncLifetime
{
    private readonly List<BridgeServerProcess> _servers = [];

    public async Task InitializeAsync()
    {
        var azurite = await AzuriteProcess.Shared;
        var settings = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString };
        _servers.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => BridgeServerProcess.StartAsync(settings))));
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Events_published_to_one_process_reach_a_subscriber_of_another_in_order()
    {
        var stream = TestNames.Stream("cross");
        await using var subscriber = await SseConnection.OpenAsync(_servers[1].Client, $"/api/streams/{stream}/events?lastEventId=0");
        var reading = subscriber.ReadEventsAsync(20, Http.Within(30));

        for (var i = 1; i <= 20; i++)
        {
            await Http.PublishIdAsync(_servers[i % 2 == 0 ? 0 : 2].Client, stream, $"e{i}");
        }

        var received = await reading;
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"e{i}"), received.Select(e => e.Data));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), received.Select(e => e.Id));
    }

    [Fact]
    public async Task Concurrent_publishers_on_three_processes_get_gap_free_ids_and_duplicates_are_stored_once()
    {
        var stream = TestNames.Stream("writers");
        var assigned = new ConcurrentBag<(long Id, string Data)>();
        var duplicateIds = new ConcurrentBag<long>();

        await Task.WhenAll(Enumerable.Range(0, 12).Select(writer => Task.Run(async () =>
        {
            var server = _servers[writer % 3];
            for (var i = 0; i < 15; i++)
            {
                var data = $"w{writer}-{i}";
                assigned.Add((await Http.PublishIdAsync(server.Client, stream, data, key: data), data));

                // Every writer also re-sends one shared key through every process: one of them stores it.
                using var shared = await Http.PublishAsync(_servers[(writer + i) % 3].Client, stream, $"shared-{i}", key: $"shared-{i}");
                duplicateIds.Add(JsonDocument.Parse(await shared.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64());
                Assert.True(shared.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK);
            }
        })));

        await using var replay = await SseConnection.OpenAsync(_servers[0].Client, $"/api/streams/{stream}/events?lastEventId=0");
        var stored = await replay.ReadEventsAsync(12 * 15 + 15, Http.Within(30));
        Assert.Equal(Enumerable.Range(1, 195).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(15, stored.Count(e => e.Data.StartsWith("shared-", StringComparison.Ordinal)));
        Assert.Equal(15, duplicateIds.Distinct().Count());
        Assert.All(assigned, pair => Assert.Equal(pair.Data, stored[(int)pair.Id - 1].Data));
    }
}
