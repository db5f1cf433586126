using System.Text;
using Bridge.Events;
using Azure.Data.Tables;
using Bridge.Testing;

namespace Bridge.TableStorage.Tests;

/// <summary>The event log's guarantees, on real Azurite: gap-free ids in commit order, idempotency, whole data.</summary>
public class TableEventLogTests : IAsyncLifetime
{
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    private TableEventLog NewLog(int windowEvents = 100_000, LocalCommitFeed? commits = null) =>
        EventLogs.Create(_azurite.ConnectionString, _table, windowEvents, commits);

    [Fact]
    public async Task Events_get_ids_1_to_n_in_order_and_read_back_whole()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("order"));

        var first = await log.AppendAsync(stream, [EventLogs.Text("a"), EventLogs.Text("b", type: "letter")]);
        var second = await log.AppendAsync(stream, [EventLogs.Text("c\r\nd", key: "k-c")]);

        Assert.Equal([1L, 2L], first.Select(result => result.Id));
        Assert.Equal(3, second[0].Id);
        Assert.Equal(3, await log.GetLastIdAsync(stream));
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(["a", "b", "c\r\nd"], stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        Assert.Equal(["message", "letter", "message"], stored.Select(e => e.Type.Value));
        Assert.Equal([null, null, "k-c"], stored.Select(e => e.IdempotencyKey));
        Assert.All(stored, e => Assert.InRange(e.StoredAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task An_empty_stream_has_last_id_0_and_reads_nothing()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("empty"));

        Assert.Equal(0, await log.GetLastIdAsync(stream));
        Assert.Empty(await EventLogs.ReadAllAsync(log, stream));
    }

    [Fact]
    public async Task A_large_append_is_split_into_transactions_of_at_most_99_events_and_one_head()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("many"));

        var results = await log.AppendAsync(stream, [.. Enumerable.Range(1, 250).Select(i => EventLogs.Text($"e{i}"))]);

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), results.Select(result => result.Id));
        var commits = await CountTransactionsAsync(stream);
        Assert.Equal(3, commits);
    }

    [Fact]
    public async Task Concurrent_appenders_in_one_process_get_gap_free_ids_and_share_transactions()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("threads"));
        const int writers = 16;
        const int eventsEach = 25;

        var appended = await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            var ids = new List<long>();
            for (var i = 0; i < eventsEach; i++)
            {
                ids.Add((await log.AppendAsync(stream, [EventLogs.Text($"w{writer}-{i}")]))[0].Id);
            }

            return ids;
        })));

        var total = writers * eventsEach;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), appended.SelectMany(ids => ids).Order());
        Assert.All(appended, ids => Assert.Equal(ids.Order(), ids));
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(total, stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)).Distinct().Count());
        Assert.True(await CountTransactionsAsync(stream) < total, "Concurrent single appends were committed together.");
    }

    [Fact]
    public async Task Writers_with_separate_state_like_separate_processes_never_leave_a_gap_or_reuse_an_id()
    {
        // Each log has its own client, head ETag and key window, exactly as another process would; they race on the
        // head row and the losers catch up and retry.
        var logs = Enumerable.Range(0, 4).Select(_ => NewLog()).ToList();
        var stream = StreamName.Parse(TestNames.Stream("processes"));

        var appended = await Task.WhenAll(logs.Select((log, writer) => Task.Run(async () =>
        {
            var results = new List<(long Id, string Text)>();
            for (var i = 0; i < 20; i++)
            {
                var batch = Enumerable.Range(0, 3).Select(j => $"p{writer}-{i}-{j}").ToList();
                var ids = await log.AppendAsync(stream, [.. batch.Select(text => EventLogs.Text(text))]);
                results.AddRange(ids.Select((result, j) => (result.Id, batch[j])));
            }

            return results;
        })));

        var byId = appended.SelectMany(results => results).ToList();
        Assert.Equal(Enumerable.Range(1, 240).Select(i => (long)i), byId.Select(r => r.Id).Order());
        var stored = await EventLogs.ReadAllAsync(logs[0], stream);
        Assert.Equal(byId.OrderBy(r => r.Id).Select(r => r.Text), stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        logs.ForEach(log => log.Dispose());
    }

    [Fact]
    public async Task Racing_writers_keep_each_call_that_fits_one_transaction_contiguous_and_larger_calls_in_order()
    {
        // Writers with separate state race on one stream; each has several callers, so group commit packs calls
        // together and a call of 45 would straddle two transactions if the stager allowed it. Calls of 150 need two
        // transactions anyway, and another writer may commit between them. Events of 8 KiB make the SDK take longer
        // to serialise each transaction, which widens the window in which a rival commits between two of them.
        var padding = new string('p', 8 * 1024);
        var logs = Enumerable.Range(0, 4).Select(_ => NewLog()).ToList();
        var stream = StreamName.Parse(TestNames.Stream("contiguity"));
        var calls = new System.Collections.Concurrent.ConcurrentBag<(int Size, long[] Ids)>();

        await Task.WhenAll(logs.SelectMany((log, writer) => Enumerable.Range(0, 4).Select(caller => Task.Run(async () =>
        {
            for (var call = 0; call < 6; call++)
            {
                var size = call == 5 ? 150 : 45;
                var texts = Enumerable.Range(0, size).Select(i => $"{writer}/{caller}/{call}/{i:D3}").ToList();
                var events = texts.Select(text => EventLogs.Text(text + padding, key: text)).ToList();
                var results = await log.AppendAsync(stream, events);
                calls.Add((size, [.. results.Select(result => result.Id)]));
            }
        }))));

        Assert.All(calls, call => Assert.Equal(call.Ids.Order(), call.Ids));
        Assert.All(calls.Where(call => call.Size < 100), call => Assert.Equal(call.Ids[0] + call.Size - 1, call.Ids[^1]));
        var stored = await EventLogs.ReadAllAsync(logs[0], stream);
        var total = 4 * 4 * ((5 * 45) + 150);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(total, stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)).Distinct().Count());
        logs.ForEach(log => log.Dispose());
    }

    [Fact]
    public async Task A_repeated_key_returns_the_original_id_and_stores_nothing()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("dedup"));

        var first = await log.AppendAsync(stream, [EventLogs.Text("original", key: "msg-1")]);
        var again = await log.AppendAsync(stream, [EventLogs.Text("redelivered", key: "msg-1"), EventLogs.Text("new", key: "msg-2")]);
        var inOneCall = await log.AppendAsync(stream, [EventLogs.Text("x", key: "msg-3"), EventLogs.Text("x again", key: "msg-3")]);

        Assert.Equal(new AppendResult(1, false), first[0]);
        Assert.Equal([new AppendResult(1, true), new AppendResult(2, false)], again);
        Assert.Equal([new AppendResult(3, false), new AppendResult(3, true)], inOneCall);
        Assert.Equal(["original", "new", "x"], (await EventLogs.ReadAllAsync(log, stream)).Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task Concurrent_duplicates_from_separate_writers_are_stored_once()
    {
        var logs = Enumerable.Range(0, 6).Select(_ => NewLog()).ToList();
        var stream = StreamName.Parse(TestNames.Stream("racing-duplicates"));
        await logs[0].AppendAsync(stream, [EventLogs.Text("warm-up")]);

        for (var round = 0; round < 5; round++)
        {
            var key = $"redelivered-{round}";
            var results = await Task.WhenAll(logs.Select(log => Task.Run(() => log.AppendAsync(stream, [EventLogs.Text(key, key)]))));

            var ids = results.Select(result => result[0].Id).Distinct().ToList();
            Assert.Single(ids);
            Assert.Single(results, result => !result[0].IsDuplicate);
        }

        var stored = await EventLogs.ReadAllAsync(logs[0], stream);
        Assert.Equal(6, stored.Count);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), stored.Select(e => e.Id));
        logs.ForEach(log => log.Dispose());
    }

    [Fact]
    public async Task Keys_survive_a_restart_because_they_are_read_back_from_storage()
    {
        var stream = StreamName.Parse(TestNames.Stream("restart"));
        using (var before = NewLog())
        {
            await before.AppendAsync(stream, [.. Enumerable.Range(1, 150).Select(i => EventLogs.Text($"e{i}", key: $"k{i}"))]);
        }

        using var after = NewLog();
        var retried = await after.AppendAsync(stream, [EventLogs.Text("again", key: "k7"), EventLogs.Text("again", key: "k150")]);

        Assert.Equal([new AppendResult(7, true), new AppendResult(150, true)], retried);
        Assert.Equal(150, await after.GetLastIdAsync(stream));
    }

    [Fact]
    public async Task A_key_older_than_the_window_is_stored_again_as_documented()
    {
        using var log = NewLog(windowEvents: 100);
        var stream = StreamName.Parse(TestNames.Stream("window"));
        await log.AppendAsync(stream, [EventLogs.Text("old", key: "early")]);
        await log.AppendAsync(stream, [.. Enumerable.Range(1, 100).Select(i => EventLogs.Text($"filler {i}"))]);

        var late = await log.AppendAsync(stream, [EventLogs.Text("old", key: "early")]);

        Assert.Equal(new AppendResult(102, false), late[0]);
    }

    [Fact]
    public async Task Data_of_256_KiB_is_stored_whole_and_anything_larger_is_refused_leaving_nothing()
    {
        using var log = NewLog();
        var stream = StreamName.Parse(TestNames.Stream("large"));
        // Multi-byte text spanning all four 64 KiB properties, cut on a character boundary just under the limit.
        var text = string.Concat(Enumerable.Range(0, EventData.MaxBytes / 8).Select(i => $"ü{i % 10000:D4}€\n"));
        var data = Encoding.UTF8.GetBytes(text)[..(EventData.MaxBytes - 3)];
        while (!System.Text.Unicode.Utf8.IsValid(data))
        {
            data = data[..^1];
        }

        var exactly = Encoding.UTF8.GetBytes(new string('a', EventData.MaxBytes));
        await log.AppendAsync(stream, [new NewEvent(EventType.Message, data), new NewEvent(EventType.Message, exactly)]);

        var tooLarge = Assert.Throws<ArgumentException>(() => new NewEvent(EventType.Message, new byte[EventData.MaxBytes + 1]));
        Assert.Contains("262144", tooLarge.Message, StringComparison.Ordinal);
        var stored = await EventLogs.ReadAllAsync(log, stream);
        Assert.Equal(2, stored.Count);
        Assert.Equal(data, stored[0].Data.ToArray());
        Assert.Equal(exactly, stored[1].Data.ToArray());
    }

    [Fact]
    public async Task Committed_events_are_announced_in_process_in_commit_order()
    {
        var commits = new LocalCommitFeed();
        var announced = new List<long>();
        commits.Committed += (_, events) =>
        {
            lock (announced)
            {
                announced.AddRange(events.Select(e => e.Id));
            }
        };
        using var log = NewLog(commits: commits);
        var stream = StreamName.Parse(TestNames.Stream("announce"));

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => log.AppendAsync(stream, [EventLogs.Text($"{i}"), EventLogs.Text($"{i}b")])));
        await log.AppendAsync(stream, [EventLogs.Text("dup", key: "d"), EventLogs.Text("dup", key: "d")]);

        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), announced);
    }

    [Fact]
    public async Task Stream_names_with_dots_and_colons_work_as_partition_keys()
    {
        using var log = NewLog();
        var stream = StreamName.Parse($"tenant:acme.orders_{Guid.NewGuid():N}");

        await log.AppendAsync(stream, [EventLogs.Text("x")]);

        Assert.Equal(1, await log.GetLastIdAsync(stream));
    }

    /// <summary>Counts commits by their token, written on the first row of each transaction.</summary>
    private async Task<int> CountTransactionsAsync(StreamName stream)
    {
        var table = new TableClient(_azurite.ConnectionString, _table);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{stream}' and Commit ne guid'00000000-0000-0000-0000-000000000000'", select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }
}
