using System.Text.Json;
using Bridge.Events;
using Bridge.Subscribers;

namespace Bridge.Core.Tests.Subscribers;

/// <summary>
/// One response that carries several streams: each event named by a <c>bridge.stream</c> event, each id a cursor of
/// every stream, and exact resume of every stream from that id alone.
/// </summary>
public class MultiStreamSessionTests
{
    private static readonly StreamName Orders = StreamName.Parse("orders");
    private static readonly StreamName Alerts = StreamName.Parse("alerts");

    [Fact]
    public async Task Replay_keeps_each_streams_order_and_names_the_stream_of_every_event_live_ones_too()
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Orders, "order 1", "order 2", "order 3");
        await engine.PublishAsync(Alerts, "alert 1", "alert 2");

        await using var response = engine.SubscribeSeveral([Orders, Alerts], lastEventId: "0");
        var replayed = await TakeAsync(response, 5);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 2);
        await engine.PublishAsync(Orders, "order 4");
        await engine.PublishAsync(Alerts, "alert 3");
        var live = await TakeAsync(response, 2);

        // Streams replay one after another in the order of their names; live events arrive as they are committed.
        Assert.Equal(
            ["alerts/alert 1", "alerts/alert 2", "orders/order 1", "orders/order 2", "orders/order 3", "orders/order 4", "alerts/alert 3"],
            replayed.Concat(live).Select(e => $"{e.Stream}/{e.Data}"));

        // The last id holds both streams' positions, alerts first: tag~alerts~orders.
        var parts = live[^1].Cursor.Split('~');
        Assert.Equal(3, parts.Length);
        Assert.Matches("^[a-z2-9]{6}$", parts[0]);
        Assert.Equal(["3", "4"], parts[1..].Select(part => part.Split('.')[0]));
    }

    [Fact]
    public async Task A_cursor_taken_mid_replay_resumes_every_stream_with_nothing_lost_and_nothing_repeated()
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Orders, "order 1", "order 2", "order 3");
        await engine.PublishAsync(Alerts, "alert 1", "alert 2");

        string cursor;
        await using (var first = engine.SubscribeSeveral([Orders, Alerts], lastEventId: "0"))
        {
            cursor = (await TakeAsync(first, 3))[^1].Cursor; // alert 1, alert 2, order 1
        }

        await engine.PublishAsync(Alerts, "alert 3");
        await using var second = engine.SubscribeSeveral([Alerts, Orders], lastEventId: cursor);
        var resumed = await TakeAsync(second, 3);

        Assert.Equal(["alerts/alert 3", "orders/order 2", "orders/order 3"], resumed.Select(e => $"{e.Stream}/{e.Data}"));
    }

    [Fact]
    public async Task Without_a_cursor_the_first_block_sets_a_cursor_of_every_stream_that_resumes_after_the_response_ends()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 10 });
        await engine.PublishAsync(Orders, "old order");
        string cursor;
        await using (var first = engine.SubscribeSeveral([Orders, Alerts]))
        {
            await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 2);
            await engine.AdvanceAsync(TimeSpan.FromSeconds(11));
            Assert.Null(await first.NextOfSeveralAsync());
            cursor = first.LastEventId;
        }

        // Published while the client was away: the next response starts from the cursor the preamble set.
        await engine.PublishAsync(Alerts, "alert while away");
        await engine.PublishAsync(Orders, "order while away");
        await using var second = engine.SubscribeSeveral([Orders, Alerts], lastEventId: cursor);

        Assert.Equal(["alerts/alert while away", "orders/order while away"], (await TakeAsync(second, 2)).Select(e => $"{e.Stream}/{e.Data}"));
    }

    [Theory]
    [InlineData("not-a-cursor")]
    [InlineData("5")]
    [InlineData("abcdef~1~1")]
    public async Task A_cursor_that_is_not_this_subscriptions_gets_a_gap_notice_for_each_stream(string cursor)
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Orders, "order 1", "order 2");
        await engine.PublishAsync(Alerts, "alert 1");
        await using var response = engine.SubscribeSeveral([Orders, Alerts], lastEventId: cursor);

        var gaps = await TakeAsync(response, 2);
        await engine.PublishAsync(Orders, "order 3");
        var next = (await response.NextOfSeveralAsync())!.Value;

        Assert.Equal(["alerts", "orders"], gaps.Select(gap => gap.Stream));
        Assert.All(gaps, gap => Assert.Equal("bridge.gap", gap.Type));
        var notices = gaps.Select(gap => JsonDocument.Parse(gap.Data).RootElement).ToList();
        Assert.Equal(["alerts", "orders"], notices.Select(notice => notice.GetProperty("stream").GetString()));
        Assert.All(notices, notice => Assert.Equal("malformed-cursor", notice.GetProperty("reason").GetString()));
        Assert.Equal([1L, 2L], notices.Select(notice => notice.GetProperty("resumeAfter").GetInt64()));
        Assert.Equal(("orders", "order 3"), (next.Stream, next.Data));
        Assert.Equal(["1", "3"], next.Cursor.Split('~')[1..].Select(part => part.Split('.')[0]));
    }

    [Fact]
    public async Task A_cursor_ahead_of_one_stream_gets_that_stream_a_gap_notice_and_replays_the_other()
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Orders, "order 1", "order 2");
        await engine.PublishAsync(Alerts, "alert 1");
        string tag;
        await using (var probe = engine.SubscribeSeveral([Orders, Alerts]))
        {
            await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 2);
            await engine.PublishAsync(Alerts, "alert 2");
            tag = (await probe.NextOfSeveralAsync())!.Value.Cursor.Split('~')[0];
        }

        await using var response = engine.SubscribeSeveral([Orders, Alerts], lastEventId: $"{tag}~9~0");
        var events = await TakeAsync(response, 3);

        Assert.Equal(["alerts/bridge.gap", "orders/order 1", "orders/order 2"], events.Select(e => $"{e.Stream}/{(e.Type == "bridge.gap" ? e.Type : e.Data)}"));
        Assert.Equal("cursor-ahead-of-stream", JsonDocument.Parse(events[0].Data).RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Many_responses_on_the_same_streams_share_one_tail_per_stream()
    {
        await using var engine = await Engine.StartAsync();
        var responses = Enumerable.Range(0, 10).Select(_ => engine.SubscribeSeveral([Orders, Alerts])).ToList();
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 20);

        await engine.PublishAsync(Alerts, "to everyone");
        var received = await Task.WhenAll(responses.Select(response => response.NextOfSeveralAsync()));

        Assert.Equal(2, engine.Hub.ActiveStreams);
        Assert.All(received, e => Assert.Equal(("alerts", "to everyone"), (e!.Value.Stream, e.Value.Data)));
        foreach (var response in responses)
        {
            await response.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_quiet_response_on_several_streams_gets_one_heartbeat_per_interval_not_one_per_stream()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { HeartbeatSeconds = 5 });
        await using var response = engine.SubscribeSeveral([Orders, Alerts, StreamName.Parse("third")]);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 3);

        await engine.AdvanceAsync(TimeSpan.FromSeconds(6));
        await engine.PublishAsync(Orders, "after the heartbeat");
        var raw = await response.ReadRawUntilAsync("after the heartbeat");

        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(raw, ": heartbeat"));
    }

    private static async Task<List<(string Stream, string Cursor, string Type, string Data)>> TakeAsync(Engine.Response response, int count)
    {
        var events = new List<(string, string, string, string)>();
        while (events.Count < count && await response.NextOfSeveralAsync() is { } next)
        {
            events.Add(next);
        }

        return events;
    }
}
