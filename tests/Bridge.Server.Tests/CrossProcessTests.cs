using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bridge.DevKit;
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
        _servers.AddRange(await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => BridgeServerProcess.StartAsync(settings))));
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
        var reading = subscriber.ReadEventsAsync(20, Waits.Within(30));

        for (var i = 1; i <= 20; i++)
        {
            await Api.PublishIdAsync(_servers[i % 2 == 0 ? 0 : 2].Client, stream, $"e{i}");
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
                assigned.Add((await Api.PublishIdAsync(server.Client, stream, data, key: data), data));

                // Every writer also re-sends one shared key through every process: one of them stores it.
                using var shared = await Api.PublishAsync(_servers[(writer + i) % 3].Client, stream, $"shared-{i}", key: $"shared-{i}");
                duplicateIds.Add(JsonDocument.Parse(await shared.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64());
                Assert.True(shared.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK);
            }
        })));

        await using var replay = await SseConnection.OpenAsync(_servers[0].Client, $"/api/streams/{stream}/events?lastEventId=0");
        var stored = await replay.ReadEventsAsync(12 * 15 + 15, Waits.Within(30));
        Assert.Equal(Enumerable.Range(1, 195).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(15, stored.Count(e => e.Data.StartsWith("shared-", StringComparison.Ordinal)));
        Assert.Equal(15, duplicateIds.Distinct().Count());
        Assert.All(assigned, pair => Assert.Equal(pair.Data, stored[(int)pair.Id - 1].Data));
    }

    [Fact]
    public async Task Batches_racing_through_four_processes_are_contiguous_when_they_fit_a_transaction_and_in_order_when_larger()
    {
        // The contract of IEventLog.AppendAsync: a call whose new events fit in one transaction (at most 99) commits
        // atomically with contiguous ids; a larger call gets increasing ids, and another process may commit between
        // its transactions. Two publishers per process make group commit pack several batches together.
        var stream = TestNames.Stream("batches");
        var batches = new ConcurrentBag<(int Size, long[] Ids)>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(publisher => Task.Run(async () =>
        {
            for (var call = 0; call < 5; call++)
            {
                var size = call == 4 ? 150 : 45;
                var events = Enumerable.Range(0, size).Select(i => new { data = $"{publisher}/{call}/{i}", idempotencyKey = $"{publisher}/{call}/{i}" });
                using var response = await _servers[publisher % 4].Client.PostAsJsonAsync($"/api/streams/{stream}/events/batch", new { events });
                response.EnsureSuccessStatusCode();
                var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events");
                batches.Add((size, [.. results.EnumerateArray().Select(result => result.GetProperty("id").GetInt64())]));
            }
        })));

        Assert.All(batches, batch => Assert.Equal(batch.Ids.Order(), batch.Ids));
        Assert.All(batches.Where(batch => batch.Size < 100), batch => Assert.Equal(batch.Ids[0] + batch.Size - 1, batch.Ids[^1]));
        var total = 8 * ((4 * 45) + 150);
        await using var replay = await SseConnection.OpenAsync(_servers[3].Client, $"/api/streams/{stream}/events?lastEventId=0");
        var stored = await replay.ReadEventsAsync(total, Waits.Within(60));
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(total, stored.Select(e => e.Data).Distinct().Count());
    }
}
