using Bridge.Events;
using Bridge.Hub;

namespace Bridge.Core.Tests.Hub;

/// <summary>How a stream's tail learns of events and hands them out, on a fake clock.</summary>
public class StreamTailTests
{
    private static readonly StreamName Stream = StreamName.Parse("tail");

    [Fact]
    public async Task Events_committed_elsewhere_arrive_at_the_next_poll_and_not_before()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 5_000 });
        await using var response = engine.Subscribe(Stream);
        var tail = await engine.Hub.GetTailAsync(Stream, CancellationToken.None);

        // Appended straight to the log, as another process would: nothing tells this process's hub.
        await engine.Log.AppendAsync(Stream, [Engine.Event("a"), Engine.Event("b")]);
        await engine.AdvanceAsync(TimeSpan.FromSeconds(4));
        Assert.Equal(0, tail.Position);

        await engine.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(["a", "b"], (await response.TakeAsync(2)).Select(e => e.Data));
    }

    [Fact]
    public async Task Runs_handed_over_out_of_order_go_out_in_id_order_without_a_storage_read()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(Stream);
        await engine.Hub.GetTailAsync(Stream, CancellationToken.None);
        var stored = new List<StoredEvent>();
        var epoch = string.Empty;
        foreach (var text in new[] { "1", "2", "3" })
        {
            var result = (await engine.Log.AppendAsync(Stream, [Engine.Event(text)]))[0];
            epoch = result.Epoch;
            stored.Add(new StoredEvent(result.Id, EventType.Message, System.Text.Encoding.UTF8.GetBytes(text), engine.Time.GetUtcNow(), null));
        }

        // Concurrent publishers hand their commits over in whatever order their tasks resume. The clock stands still,
        // so the tail cannot poll: whatever arrives came through Deliver.
        engine.Hub.Deliver(Stream, epoch, [stored[2]]);
        engine.Hub.Deliver(Stream, epoch, [stored[1]]);
        engine.Hub.Deliver(Stream, epoch, [stored[0]]);

        Assert.Equal(["1", "2", "3"], (await response.TakeAsync(3)).Select(e => e.Id));
    }

    [Fact]
    public async Task A_gap_that_outlasts_a_short_grace_is_read_from_storage_without_waiting_for_the_poll()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(Stream);
        await engine.Hub.GetTailAsync(Stream, CancellationToken.None);

        // Events 1 and 2 come from another process; event 3 is this process's own.
        await engine.Log.AppendAsync(Stream, [Engine.Event("elsewhere 1"), Engine.Event("elsewhere 2")]);
        await engine.PublishAsync(Stream, "here 3");
        await engine.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        Assert.Equal(["elsewhere 1", "elsewhere 2", "here 3"], (await response.TakeAsync(3)).Select(e => e.Data));
    }

    [Fact]
    public async Task A_quiet_stream_sends_a_heartbeat_comment_after_the_heartbeat_interval()
    {
        await using var engine = await Engine.StartAsync(new Bridge.Subscribers.SseOptions { HeartbeatSeconds = 15 });
        await using var response = engine.Subscribe(Stream);
        await engine.Hub.GetTailAsync(Stream, CancellationToken.None);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await engine.AdvanceAsync(TimeSpan.FromSeconds(16));

        Assert.Contains(": heartbeat\n\n", await response.ReadRawUntilAsync(": heartbeat"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tail_nobody_follows_stops_after_its_idle_time_and_the_next_subscriber_starts_a_new_one()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { IdleSeconds = 30 });
        var response = engine.Subscribe(Stream);
        var first = await engine.Hub.GetTailAsync(Stream, CancellationToken.None);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);
        await response.DisposeAsync();

        await engine.AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, engine.Hub.ActiveStreams);
        await engine.AdvanceAsync(TimeSpan.FromSeconds(12));
        await Engine.EventuallyAsync(() => engine.Hub.ActiveStreams == 0);

        await engine.PublishAsync(Stream, "later");
        await using var next = engine.Subscribe(Stream, lastEventId: "0");
        Assert.Equal("later", (await next.NextAsync())!.Value.Data);
        Assert.NotSame(first, await engine.Hub.GetTailAsync(Stream, CancellationToken.None));
    }

    [Fact]
    public async Task Stopping_the_hub_ends_every_response_and_awaits_every_tail()
    {
        var engine = await Engine.StartAsync();
        var responses = Enumerable.Range(0, 3).Select(i => engine.Subscribe(StreamName.Parse($"s{i}"))).ToList();
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 3);

        await engine.DisposeAsync();

        await Task.WhenAll(responses.Select(response => response.Ended)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, engine.Hub.ActiveStreams);
    }
}
