using System.Text;
using Bridge.Events;
using Bridge.DevKit;

namespace Bridge.TableStorage.Tests;

/// <summary>Real network faults between the log and Azurite, injected by a TCP relay.</summary>
public class TableEventLogFaultTests
{
    [Fact]
    public async Task A_commit_whose_response_is_lost_is_recognised_and_not_applied_twice_even_without_keys()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var log = EventLogs.Create(AzuriteProcess.ConnectionStringFor(relay.Port), TestNames.Table());
        var stream = StreamName.Parse(TestNames.Stream("lost-response"));
        await log.AppendAsync(stream, [EventLogs.Text("before")]);

        // The transaction reaches storage and commits, but its response never arrives; the pipeline retries it,
        // the retry meets a changed head (412), and the writer finds its own commit token.
        relay.DropNextResponse();
        var results = await log.AppendAsync(stream, [EventLogs.Text("one"), EventLogs.Text("two")]);

        Assert.Equal(1, relay.DroppedResponses);
        Assert.Equal([2L, 3L], results.Select(result => result.Id));
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(["before", "one", "two"], stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task A_lost_response_in_the_middle_of_a_multi_transaction_append_stores_every_event_once()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var log = EventLogs.Create(AzuriteProcess.ConnectionStringFor(relay.Port), TestNames.Table());
        var stream = StreamName.Parse(TestNames.Stream("lost-in-pipeline"));
        await log.AppendAsync(stream, [EventLogs.Text("before")]);

        relay.DropNextResponse();
        var results = await log.AppendAsync(stream, [.. Enumerable.Range(1, 250).Select(i => EventLogs.Text($"e{i}"))]);

        Assert.Equal(1, relay.DroppedResponses);
        Assert.Equal(Enumerable.Range(2, 250).Select(i => (long)i), results.Select(result => result.Id));
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(["before", .. Enumerable.Range(1, 250).Select(i => $"e{i}")], stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task When_storage_is_down_appends_fail_clearly_and_resume_gap_free_when_it_returns()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var log = EventLogs.Create(AzuriteProcess.ConnectionStringFor(relay.Port), TestNames.Table());
        var stream = StreamName.Parse(TestNames.Stream("outage"));
        await log.AppendAsync(stream, [EventLogs.Text("1", key: "k1")]);

        relay.Refuse();
        var failures = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            Assert.ThrowsAsync<EventLogUnavailableException>(() => log.AppendAsync(stream, [EventLogs.Text($"down {i}", key: $"down{i}")]))));
        relay.Restore();

        Assert.All(failures, failure => Assert.Contains("Retry", failure.Message, StringComparison.Ordinal));
        var afterwards = await log.AppendAsync(stream, [EventLogs.Text("2", key: "k2"), EventLogs.Text("1", key: "k1")]);
        Assert.Equal([(2L, false), (1L, true)], afterwards.Select(result => (result.Id, result.IsDuplicate)));
        Assert.Equal(2, (await log.GetHeadAsync(stream)).LastId);
    }
}
