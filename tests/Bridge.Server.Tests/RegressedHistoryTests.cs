using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Server.Tests;

/// <summary>
/// Storage that lost events it had acknowledged: the table deleted and created again while subscribers are
/// connected, and Azurite killed with SIGKILL mid-stream (it keeps its data in memory, so it comes back empty). No
/// id may then name two different events to anyone: connected subscribers are told in-band and get the new history,
/// producers get ids that name the new epoch, and a cursor from the lost history is recognised on reconnect.
/// </summary>
public class RegressedHistoryTests
{
    private const int Subscribers = 3;

    [Fact]
    public async Task A_table_deleted_and_created_again_under_connected_subscribers_is_announced_and_its_new_history_follows()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = TestNames.Table();
        await using var server = await BridgeTestServer.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:EventsTable"] = table,
            ["Tail:PollIntervalMilliseconds"] = "200",
        });
        var stream = TestNames.Stream("recreated");
        var before = await PublishAsync(server, stream, "old", 5);
        var subscribers = await FollowAsync(server, stream, 5);

        var tables = new TableClient(azurite.ConnectionString, table);
        await tables.DeleteAsync();
        await tables.CreateAsync();
        var after = await PublishAsync(server, stream, "new", 3);

        Assert.Empty(before.Intersect(after));
        await AssertToldAndGivenAsync(subscribers, resumeAfter: 0, after, "new");

        // A client that was away during the change comes back with a cursor from the lost history.
        await using var returning = await SseConnection.OpenAsync(server.Client, $"/api/streams/{stream}/events", lastEventId: before[^1]);
        await AssertToldAndGivenAsync([returning], resumeAfter: 0, after, "new");
        await DisposeAllAsync(subscribers);
    }

    [Fact]
    public async Task Azurite_killed_mid_stream_never_makes_one_id_name_two_events_and_subscribers_get_the_new_history()
    {
        var first = await AzuriteProcess.StartAsync();
        var port = first.Port;
        await using var server = await BridgeTestServer.StartAsync(first.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:OperationTimeoutSeconds"] = "2",
            ["Tail:PollIntervalMilliseconds"] = "200",
            ["Sse:RetryMilliseconds"] = "200",
        });
        var stream = TestNames.Stream("killed");
        var before = await PublishAsync(server, stream, "old", 5);
        var subscribers = await FollowAsync(server, stream, 5);

        first.Process.Kill();
        await first.DisposeAsync();
        await using var second = await AzuriteProcess.StartAsync(port);

        // Producers retry until storage answers, as they are told to; the one whose event was lost sends it again.
        var after = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            after.Add(await PublishWithRetriesAsync(server, stream, $"new {i}", key: $"key-{i + 3}"));
        }

        Assert.Empty(before.Intersect(after));
        Assert.All(after, id => Assert.NotEqual(Epoch(before[0]), Epoch(id)));
        await AssertToldAndGivenAsync(subscribers, resumeAfter: 0, after, "new");
        await DisposeAllAsync(subscribers);
    }

    [Fact]
    public async Task A_response_on_several_streams_is_told_which_streams_history_was_replaced_and_its_cursor_resumes_in_the_new_one()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = TestNames.Table();
        await using var server = await BridgeTestServer.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:EventsTable"] = table,
            ["Tail:PollIntervalMilliseconds"] = "200",
        });
        var (a, b) = (TestNames.Stream("replaced-a"), TestNames.Stream("replaced-b"));
        await PublishAsync(server, a, "old a", 3);
        await PublishAsync(server, b, "old b", 2);
        var url = $"/api/events?stream={a}&stream={b}";
        await using var subscriber = await SseConnection.OpenAsync(server.Client, url + "&lastEventId=0");
        Assert.Equal(5, (await subscriber.ReadEventsAsync(5, Waits.Within(10))).Count);

        var tables = new TableClient(azurite.ConnectionString, table);
        await tables.DeleteAsync();
        await tables.CreateAsync();
        var afterA = await PublishAsync(server, a, "new a", 2);
        var afterB = await PublishAsync(server, b, "new b", 1);
        var received = await subscriber.ReadEventsAsync(5, Waits.Within(30));

        foreach (var (stream, after, prefix) in new[] { (a, afterA, "new a"), (b, afterB, "new b") })
        {
            var ofStream = received.Where(e => e.Stream == stream).ToList();
            Assert.Equal(["bridge.gap", .. after.Select(_ => "message")], ofStream.Select(e => e.Type));
            using var notice = JsonDocument.Parse(ofStream[0].Data);
            Assert.Equal(stream, notice.RootElement.GetProperty("stream").GetString());
            Assert.Equal("history-replaced", notice.RootElement.GetProperty("reason").GetString());
            Assert.Equal(Enumerable.Range(1, after.Count).Select(i => $"{prefix} {i}"), ofStream.Skip(1).Select(e => e.Data));
        }

        // The response's last id holds both streams' positions in their new epochs: a reconnection gets no notice.
        await using var resumed = await SseConnection.OpenAsync(server.Client, url, lastEventId: subscriber.LastEventId);
        await Waits.Eventually(() => server.Services.GetRequiredService<Bridge.Hub.StreamHub>().Subscribers >= 4);
        using (var response = await Api.PublishAsync(server.Client, b, "newer b"))
        {
            response.EnsureSuccessStatusCode();
        }

        var next = await resumed.ReadEventAsync(Waits.Within(15));
        Assert.Equal((b, "message", "newer b"), (next!.Stream, next.Type, next.Data));
    }

    private static async Task<List<string>> PublishAsync(BridgeTestServer server, string stream, string prefix, int count)
    {
        var ids = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            using var response = await Api.PublishAsync(server.Client, stream, $"{prefix} {i}", key: $"key-{i}");
            response.EnsureSuccessStatusCode();
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString()!);
        }

        return ids;
    }

    private static async Task<string> PublishWithRetriesAsync(BridgeTestServer server, string stream, string data, string key)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await Api.PublishAsync(server.Client, stream, data, key: key);
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString()!;
            }

            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(attempt < 40, $"The publish of '{data}' still failed after {attempt} attempts.");
            await Task.Delay(250);
        }
    }

    /// <summary>Subscribers that have received the stream's first <paramref name="count"/> events.</summary>
    private static async Task<List<SseConnection>> FollowAsync(BridgeTestServer server, string stream, int count)
    {
        var subscribers = new List<SseConnection>();
        for (var i = 0; i < Subscribers; i++)
        {
            var subscriber = await SseConnection.OpenAsync(server.Client, $"/api/streams/{stream}/events?lastEventId=0");
            Assert.Equal(count, (await subscriber.ReadEventsAsync(count, Waits.Within(10))).Count);
            subscribers.Add(subscriber);
        }

        return subscribers;
    }

    /// <summary>Each subscriber's next events: one history-replaced notice, then exactly the new history.</summary>
    private static async Task AssertToldAndGivenAsync(List<SseConnection> subscribers, long resumeAfter, List<string> ids, string prefix)
    {
        foreach (var subscriber in subscribers)
        {
            var received = await subscriber.ReadEventsAsync(1 + ids.Count, Waits.Within(30));
            var notice = received[0];
            Assert.Equal("bridge.gap", notice.Type);
            using var data = JsonDocument.Parse(notice.Data);
            Assert.Equal("history-replaced", data.RootElement.GetProperty("reason").GetString());
            Assert.Equal(resumeAfter, data.RootElement.GetProperty("resumeAfter").GetInt64());
            Assert.Equal(ids, received.Skip(1).Select(e => e.LastEventId));
            Assert.All(received.Skip(1), e => Assert.StartsWith(prefix, e.Data, StringComparison.Ordinal));
        }
    }

    private static string Epoch(string eventId) => eventId.Split('.')[1];

    private static async Task DisposeAllAsync(List<SseConnection> subscribers)
    {
        foreach (var subscriber in subscribers)
        {
            await subscriber.DisposeAsync();
        }
    }
}
