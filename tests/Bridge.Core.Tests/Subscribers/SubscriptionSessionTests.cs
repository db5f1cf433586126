using System.IO.Pipelines;
using System.Text.Json;
using Bridge.Events;
using Bridge.Subscribers;

namespace Bridge.Core.Tests.Subscribers;

/// <summary>One response from start to end: preamble, replay, live events, and its bounded lifetime, on a fake clock.</summary>
public class SubscriptionSessionTests
{
    private static readonly StreamName Stream = StreamName.Parse("session");

    [Fact]
    public async Task Comments_tell_a_reading_client_when_the_response_closes_and_where_replay_ends_and_live_begins()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 100 });
        await engine.PublishAsync(Stream, "stored 1", "stored 2");

        // Replayed from storage.
        await using var first = engine.Subscribe(Stream, lastEventId: "0");
        var stored = await first.TakeAsync(2);
        await engine.PublishAsync(Stream, "event 3");
        var fromStorage = await first.ReadRawUntilAsync("event 3");

        // Replayed from the tail's memory.
        await using var second = engine.Subscribe(Stream, lastEventId: stored[1].Id);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 2);
        await engine.PublishAsync(Stream, "event 4");
        var fromMemory = await second.ReadRawUntilAsync("event 4");

        var closesIn = int.Parse(System.Text.RegularExpressions.Regex.Match(fromMemory, ": closes-in ([0-9]+)\n\n").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(closesIn, 80, 100);
        Assert.True(fromStorage.IndexOf(": live\n\n", StringComparison.Ordinal) < fromStorage.IndexOf("event 3", StringComparison.Ordinal));
        Assert.True(fromMemory.IndexOf("event 3", StringComparison.Ordinal) < fromMemory.IndexOf(": live\n\n", StringComparison.Ordinal));
        Assert.True(fromMemory.IndexOf(": live\n\n", StringComparison.Ordinal) < fromMemory.IndexOf("event 4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_response_ends_between_80_and_100_percent_of_the_maximum_lifetime()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 100 });
        var responses = Enumerable.Range(0, 20).Select(_ => engine.Subscribe(Stream)).ToList();
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 20);

        await engine.AdvanceAsync(TimeSpan.FromSeconds(79));
        Assert.All(responses, response => Assert.False(response.Ended.IsCompleted));

        await engine.AdvanceAsync(TimeSpan.FromSeconds(22));
        await Task.WhenAll(responses.Select(response => response.Ended)).WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var response in responses)
        {
            await response.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_response_ends_at_its_tokens_expiry_when_that_comes_first()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 120 });
        await using var response = engine.Subscribe(Stream, notAfter: engine.Time.GetUtcNow().AddSeconds(30));
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await engine.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.False(response.Ended.IsCompleted);
        await engine.AdvanceAsync(TimeSpan.FromSeconds(2));
        await response.Ended.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_cursor_replays_what_came_after_it_then_live_events_follow_with_no_gap_and_no_duplicate()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { RetryMilliseconds = 1234 });
        await engine.PublishAsync(Stream, "1", "2", "3", "4", "5");
        await using var response = engine.Subscribe(Stream, lastEventId: "2");

        var replayed = await response.TakeAsync(3);
        await engine.PublishAsync(Stream, "6");
        var live = await response.NextAsync();

        Assert.Equal(["3", "4", "5", "6"], replayed.Append(live!.Value).Select(e => e.Data));
        Assert.Equal(["3", "4", "5", "6"], replayed.Append(live.Value).Select(e => e.Id));
        Assert.Equal(TimeSpan.FromMilliseconds(1234), response.Retry);
    }

    [Fact]
    public async Task Without_a_cursor_only_new_events_arrive_and_the_client_is_given_a_cursor_at_once()
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Stream, "old 1", "old 2");
        await using var response = engine.Subscribe(Stream);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await engine.PublishAsync(Stream, "new");

        Assert.Equal(("3", "new"), (await response.NextAsync()) is { } next ? (next.Id, next.Data) : default);
    }

    [Theory]
    [InlineData("99", "cursor-ahead-of-stream")]
    [InlineData("not-a-number", "malformed-cursor")]
    public async Task A_cursor_that_cannot_be_honoured_gets_a_gap_notice_that_moves_the_cursor_to_the_end(string cursor, string reason)
    {
        await using var engine = await Engine.StartAsync();
        await engine.PublishAsync(Stream, "1", "2");
        await using var response = engine.Subscribe(Stream, lastEventId: cursor);

        var gap = (await response.NextAsync())!.Value;
        await engine.PublishAsync(Stream, "3");
        var next = (await response.NextAsync())!.Value;

        Assert.Equal(("2", "bridge.gap"), (gap.Id, gap.Type));
        var notice = JsonDocument.Parse(gap.Data).RootElement;
        Assert.Equal(reason, notice.GetProperty("reason").GetString());
        Assert.Equal(cursor, notice.GetProperty("requested").GetString());
        Assert.Equal(2, notice.GetProperty("resumeAfter").GetInt64());
        Assert.Equal(("3", "3"), (next.Id, next.Data));
    }

    [Fact]
    public async Task A_client_that_falls_behind_its_buffer_is_cut_off_and_resumes_from_its_last_event_without_loss()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { SubscriberBufferBytes = 4_096 });
        // The client reads nothing while events pile up: the pipe stops taking bytes after 1 KiB.
        var stalled = engine.Subscribe(Stream, lastEventId: "0", pipe: new PipeOptions(pauseWriterThreshold: 1_024, resumeWriterThreshold: 512));
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);
        var data = new string('x', 200);
        for (var i = 1; i <= 60; i++)
        {
            await engine.PublishAsync(Stream, $"{i:D3}{data}");
        }

        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 0);

        // Cut off at once: what it has not read would otherwise keep the response open for as long as it takes.
        await stalled.CutOff.WaitAsync(TimeSpan.FromSeconds(10));
        var received = new List<(string Id, string Type, string Data)>();
        while (await stalled.NextAsync() is { } next)
        {
            received.Add(next);
        }

        await stalled.DisposeAsync();
        await using var resumed = engine.Subscribe(Stream, lastEventId: received[^1].Id);
        received.AddRange(await resumed.TakeAsync(60 - received.Count));

        Assert.InRange(received.Count, 60, 60);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received.Select(e => e.Id));
    }

    [Fact]
    public async Task A_slow_client_that_cannot_take_its_last_events_at_the_deadline_is_cut_off_after_the_grace()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 10, SubscriberBufferBytes = 1_000_000 });
        var slow = engine.Subscribe(Stream, pipe: new PipeOptions(pauseWriterThreshold: 1_024, resumeWriterThreshold: 512));
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);
        var data = new string('x', 200);
        for (var i = 1; i <= 20; i++)
        {
            await engine.PublishAsync(Stream, $"{i:D3}{data}");
        }

        await engine.AdvanceAsync(TimeSpan.FromSeconds(11));
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 0);
        Assert.False(slow.CutOff.IsCompleted);

        await engine.AdvanceAsync(SubscriptionSession.EndGrace + TimeSpan.FromSeconds(1));
        await slow.CutOff.WaitAsync(TimeSpan.FromSeconds(10));
        await slow.Ended.WaitAsync(TimeSpan.FromSeconds(10));
        await slow.DisposeAsync();
    }

    [Fact]
    public async Task A_client_too_slow_to_take_its_replay_is_cut_off_at_its_deadline()
    {
        await using var engine = await Engine.StartAsync(new SseOptions { MaxDurationSeconds = 10 });
        var data = new string('x', 200);
        await engine.PublishAsync(Stream, [.. Enumerable.Range(1, 200).Select(i => $"{i:D3}{data}")]);
        var slow = engine.Subscribe(Stream, lastEventId: "0", pipe: new PipeOptions(pauseWriterThreshold: 1_024, resumeWriterThreshold: 512));

        await engine.AdvanceAsync(TimeSpan.FromSeconds(11));
        await slow.CutOff.WaitAsync(TimeSpan.FromSeconds(10));
        await slow.Ended.WaitAsync(TimeSpan.FromSeconds(10));
        await slow.DisposeAsync();
    }
}
