using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// Bounded history as a client sees it: instances publish to one stream and prune it at once, and a client that
/// returns with a cursor older than what is kept, or whose instance fell that far behind, is told so in-band, then
/// given exactly what is kept.
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
        var settings = Settings(table);
        await using var first = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        await using var second = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        var stream = TestNames.Stream("pruned");

        var epoch = await PublishAsync([first, second], stream);
        await WaitUntilPrunedAsync(azurite, table, stream);

        // A third instance has nothing in memory, so it replays from storage.
        await using var third = await BridgeTestServer.StartAsync(azurite.ConnectionString, settings);
        await using var returning = await SseConnection.OpenAsync(third.Client, $"/api/streams/{stream}/events", lastEventId: $"5.{epoch}");
        AssertGapThenKept(await returning.ReadEventsAsync(1 + Kept, Waits.Within(30)));
    }

    [Fact]
    public async Task A_live_subscriber_whose_instance_fell_behind_what_is_kept_gets_the_gap_then_the_kept_events()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = TestNames.Table();
        await using var publishing = await BridgeTestServer.StartAsync(azurite.ConnectionString, Settings(table));

        // This instance reads the stream's head only every 20 s, so the events are published and pruned between two
        // of its polls.
        var slow = Settings(table);
        slow["Tail:PollIntervalMilliseconds"] = "20000";
        await using var behind = await BridgeTestServer.StartAsync(azurite.ConnectionString, slow);
        var stream = TestNames.Stream("behind");
        await using var subscriber = await SseConnection.OpenAsync(behind.Client, $"/api/streams/{stream}/events?lastEventId=0");

        await PublishAsync([publishing], stream);
        await WaitUntilPrunedAsync(azurite, table, stream);

        AssertGapThenKept(await subscriber.ReadEventsAsync(1 + Kept, Waits.Within(60)));
    }

    private static Dictionary<string, string?> Settings(string table) => new()
    {
        ["Storage:EventsTable"] = table,
        ["Storage:IdempotencyWindowEvents"] = $"{Kept}",
        ["Retention:MaxEventsPerStream"] = $"{Kept}",
        ["Retention:PruneIntervalSeconds"] = "1",
    };

    /// <summary>Publishes the events from 10 concurrent publishers spread over the instances; returns the epoch.</summary>
    private static async Task<string> PublishAsync(BridgeTestServer[] servers, string stream)
    {
        var ids = await Task.WhenAll(Enumerable.Range(1, Published).Chunk(Published / 10).Select(async numbers =>
        {
            var published = new List<string>();
            foreach (var n in numbers)
            {
                using var response = await Api.PublishAsync(servers[n % servers.Length].Client, stream, $"event {n}", key: $"key-{n}");
                response.EnsureSuccessStatusCode();
                published.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString()!);
            }

            return published;
        }));
        return ids[0][0].Split('.')[1];
    }

    /// <summary>Waits until the instances' pruners have removed every event before the kept ones from storage.</summary>
    private static async Task WaitUntilPrunedAsync(AzuriteProcess azurite, string table, string stream)
    {
        var rows = new TableClient(azurite.ConnectionString, table);
        var newestPruned = $"{Published - Kept:D19}";
        await Waits.Eventually(() => !rows.Query<TableEntity>($"PartitionKey eq '{stream}' and RowKey le '{newestPruned}'", select: ["RowKey"]).Any(), seconds: 30);
    }

    /// <summary>One events-pruned notice naming the oldest kept event, then exactly the kept events.</summary>
    private static void AssertGapThenKept(List<SseEvent> received)
    {
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
