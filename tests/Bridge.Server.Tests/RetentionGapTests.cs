using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// Bounded history as a client sees it: two instances publish to one stream and prune it at once, and a client that
/// returns with a cursor older than what is kept is told so in-band, then given exactly what is kept.
/// </summary>
public class RetentionGapTests
{
    private const int Kept = 100;
    private const int Published = 300;

    [Fact]
    public async Task A_cursor_older_than_what_is_kept_gets_a_gap_naming_the_oldest_kept_event_then_exactly_the_kept_events()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = TestNames.Table();
        var settings = new Dictionary<string, string?>
        {
            ["Storage:EventsTable"] = table,
            ["Storage:IdempotencyWindowEvents"] = $"{Kept}",
            ["Retention:MaxEventsPerStream"] = $"{Kept}",
            ["Retention:PruneIntervalSeconds"] = "1",
        };
        await using var first = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        await using var second = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        var stream = TestNames.Stream("pruned");

        var ids = await Task.WhenAll(Enumerable.Range(1, Published).Chunk(Published / 10).Select(async numbers =>
        {
            var published = new List<string>();
            foreach (var n in numbers)
            {
                using var response = await Api.PublishAsync(n % 2 == 0 ? first.Client : second.Client, stream, $"event {n}", key: $"key-{n}");
                response.EnsureSuccessStatusCode();
                published.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString()!);
            }

            return published;
        }));
        var epoch = ids[0][0].Split('.')[1];

        // Both instances prune every second; wait until the oldest events are gone from storage.
        var rows = new TableClient(azurite.ConnectionString, table);
        var oldest = $"{Published - Kept:D19}";
        await Waits.Eventually(() => !rows.Query<TableEntity>($"PartitionKey eq '{stream}' and RowKey le '{oldest}'", select: ["RowKey"]).Any(), seconds: 30);

        // A third instance has nothing in memory, so it replays from storage.
        await using var third = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        await using var returning = await SseConnection.OpenAsync(third.Client, $"/api/streams/{stream}/events", lastEventId: $"5.{epoch}");
        var received = await returning.ReadEventsAsync(1 + Kept, Waits.Within(30));

        Assert.Equal("bridge.gap", received[0].Type);
        using var notice = JsonDocument.Parse(received[0].Data);
        Assert.Equal("events-pruned", notice.RootElement.GetProperty("reason").GetString());
        Assert.Equal(Published - Kept + 1, notice.RootElement.GetProperty("oldestKept").GetInt64());
        Assert.Equal(Published - Kept, notice.RootElement.GetProperty("resumeAfter").GetInt64());
        Assert.Equal(Published - Kept, received[0].Id);
        Assert.Equal(Enumerable.Range(Published - Kept + 1, Kept).Select(id => (long)id), received.Skip(1).Select(e => e.Id));
        Assert.Equal(Kept, received.Skip(1).Select(e => e.Data).Distinct().Count());
    }
}
