using Azure.Data.Tables;
using Bridge.DevKit;
using Bridge.Events;
using Bridge.TableStorage.Retention;
using Bridge.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Bounded history against Azurite: what retention removes and what it must keep (the head, and the events the
/// idempotency window reads), several pruners at once, and reads that skip what was pruned.
/// </summary>
public class RetentionTests : IAsyncLifetime
{
    private const int Window = 100;
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();
    private readonly StreamName _stream = StreamName.Parse(TestNames.Stream("kept"));

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    [Fact]
    public async Task Count_retention_removes_the_oldest_events_and_keeps_the_head_and_the_idempotency_window()
    {
        var metrics = new BridgeMetrics();
        using var counted = CounterTotal.Of(metrics.EventsPruned);
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table, Window, metrics);
        await AppendAsync(log, 1_000);

        var pruned = await log.PruneAsync(_stream, new RetentionRule(MaxEvents: 150, MaxAge: TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(850, pruned);
        Assert.Equal(850, counted.Total);
        Assert.Equal(Enumerable.Range(851, 150).Select(id => (long)id), (await EventLogs.ReadAllAsync(log, _stream)).Select(e => e.Id));
        Assert.Equal(1_000, (await log.GetHeadAsync(_stream)).LastId);
        Assert.Equal(0, await log.PruneAsync(_stream, new RetentionRule(150, TimeSpan.Zero), CancellationToken.None));

        // A redelivery of a kept event is still recognised, and the next event continues the ids.
        var again = await log.AppendAsync(_stream, [EventLogs.Text("event 1000", key: "key-1000"), EventLogs.Text("new")]);
        Assert.Equal([(1_000L, true), (1_001L, false)], again.Select(result => (result.Id, result.IsDuplicate)));
    }

    [Fact]
    public async Task Retention_shorter_than_the_idempotency_window_keeps_the_window()
    {
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table, Window);
        await AppendAsync(log, 400);

        await log.PruneAsync(_stream, new RetentionRule(MaxEvents: 10, MaxAge: TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(Enumerable.Range(301, Window).Select(id => (long)id), (await EventLogs.ReadAllAsync(log, _stream)).Select(e => e.Id));
        var redelivered = await log.AppendAsync(_stream, [EventLogs.Text("event 301", key: "key-301")]);
        Assert.True(redelivered[0].IsDuplicate);
    }

    [Fact]
    public async Task Age_retention_removes_events_stored_before_the_cutoff()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table, Window, time: time);
        await AppendAsync(log, 300);
        time.Advance(TimeSpan.FromHours(2));
        await AppendAsync(log, 300, firstNumber: 301);

        var pruned = await log.PruneAsync(_stream, new RetentionRule(MaxEvents: 0, MaxAge: TimeSpan.FromHours(1)), CancellationToken.None);

        Assert.Equal(300, pruned);
        Assert.Equal(301, (await EventLogs.ReadAllAsync(log, _stream))[0].Id);
    }

    [Fact]
    public async Task Several_pruners_at_once_delete_each_event_once_while_a_writer_appends()
    {
        await using var writer = EventLogs.Create(_azurite.ConnectionString, _table, Window);
        await AppendAsync(writer, 2_000);
        var pruners = Enumerable.Range(0, 3).Select(_ => EventLogs.Create(_azurite.ConnectionString, _table, Window)).ToList();
        var rule = new RetentionRule(MaxEvents: 200, MaxAge: TimeSpan.Zero);
        try
        {
            // Three rounds of three pruners racing, while 300 more events arrive.
            var appending = AppendAsync(writer, 300, firstNumber: 2_001);
            var deleted = 0;
            for (var round = 0; round < 3; round++)
            {
                var counts = await Task.WhenAll(pruners.Select(pruner => pruner.PruneAsync(_stream, rule, CancellationToken.None)));
                deleted += counts.Sum();
            }

            await appending;
            deleted += (await Task.WhenAll(pruners.Select(pruner => pruner.PruneAsync(_stream, rule, CancellationToken.None)))).Sum();

            var kept = await EventLogs.ReadAllAsync(writer, _stream);
            Assert.Equal(Enumerable.Range(2_101, 200).Select(id => (long)id), kept.Select(e => e.Id));
            Assert.Equal(2_100, deleted);
            var rows = new TableClient(_azurite.ConnectionString, _table).QueryAsync<TableEntity>(
                $"PartitionKey eq '{_stream.Value}'", select: ["RowKey"]);
            Assert.Equal(["head", "pruned"], await rows.Where(row => !char.IsAsciiDigit(row.RowKey[0])).Select(row => row.RowKey).ToListAsync());
        }
        finally
        {
            foreach (var pruner in pruners)
            {
                await pruner.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_read_from_before_the_pruned_events_skips_them_but_a_row_lost_above_them_is_still_an_error()
    {
        await using var log = EventLogs.Create(_azurite.ConnectionString, _table, Window);
        await AppendAsync(log, 300);
        await log.PruneAsync(_stream, new RetentionRule(MaxEvents: Window, MaxAge: TimeSpan.Zero), CancellationToken.None);

        var fromStart = await EventLogs.ReadAllAsync(log, _stream);
        Assert.Equal(201, fromStart[0].Id);
        await foreach (var page in log.ReadAsync(_stream, 10, 50))
        {
            Assert.Fail($"Nothing up to 50 is kept, yet a page of {page.Count} came back.");
        }

        await new TableClient(_azurite.ConnectionString, _table).DeleteEntityAsync(_stream.Value, EventRows.RowKey(250));
        await Assert.ThrowsAsync<InvalidOperationException>(() => EventLogs.ReadAllAsync(log, _stream));
    }

    [Fact]
    public void An_override_applies_to_the_streams_its_pattern_matches_and_takes_unset_limits_from_the_default()
    {
        var options = new RetentionOptions
        {
            MaxEventsPerStream = 1_000,
            MaxAgeHours = 24,
            Overrides = [new RetentionOverride { Pattern = "chat-*", MaxEventsPerStream = 50 }, new RetentionOverride { Pattern = "audit", MaxAgeHours = 0, MaxEventsPerStream = 0 }],
        };

        Assert.Equal(new RetentionRule(50, TimeSpan.FromHours(24)), options.RuleFor(StreamName.Parse("chat-room-1")));
        Assert.True(options.RuleFor(StreamName.Parse("audit")).KeepsEverything);
        Assert.Equal(new RetentionRule(1_000, TimeSpan.FromHours(24)), options.RuleFor(StreamName.Parse("audit-2")));
        Assert.False(new RetentionOptions().LimitsAnything);
    }

    private async Task AppendAsync(IEventLog log, int count, int firstNumber = 1)
    {
        foreach (var chunk in Enumerable.Range(firstNumber, count).Chunk(IEventLog.MaxAtomicEvents))
        {
            await log.AppendAsync(_stream, [.. chunk.Select(n => EventLogs.Text($"event {n}", key: $"key-{n}"))]);
        }
    }
}
