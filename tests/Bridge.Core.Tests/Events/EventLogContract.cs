using System.Collections.Concurrent;
using System.Text;
using Bridge.Events;

namespace Bridge.Core.Tests.Events;

/// <summary>
/// What every <see cref="IEventLog"/> promises, run against each implementation: the in-memory log here, the Table
/// Storage log in its own test project.
/// </summary>
public abstract class EventLogContract
{
    /// <summary>
    /// <paramref name="count"/> writers on the same storage, each with its own state as separate processes would have
    /// (for a log that lives in one process, the same instance every time). The first is the reader.
    /// </summary>
    protected abstract IEventLog[] Writers(int count);

    private IEventLog Log => Writers(1)[0];

    protected static StreamName NewStream(string purpose) => StreamName.Parse($"{purpose}-{Guid.NewGuid():N}");

    protected static NewEvent Text(string text, string? key = null, string? type = null) =>
        new(EventType.Parse(type), Encoding.UTF8.GetBytes(text), key is null ? null : IdempotencyKey.Parse(key));

    protected static async Task<List<StoredEvent>> ReadAllAsync(IEventLog log, StreamName stream)
    {
        var all = new List<StoredEvent>();
        await foreach (var page in log.ReadAsync(stream, 0, (await log.GetHeadAsync(stream)).LastId))
        {
            all.AddRange(page);
        }

        return all;
    }

    [Fact]
    public async Task Events_get_ids_1_to_n_in_order_and_read_back_whole()
    {
        var log = Log;
        var stream = NewStream("order");

        var first = await log.AppendAsync(stream, [Text("a"), Text("b", type: "letter")]);
        var second = await log.AppendAsync(stream, [Text("c\r\nd", key: "k-c")]);

        Assert.Equal([1L, 2L], first.Select(result => result.Id));
        Assert.Equal(3, second[0].Id);
        Assert.Equal(3, (await log.GetHeadAsync(stream)).LastId);
        var stored = await ReadAllAsync(log, stream);
        Assert.Equal(["a", "b", "c\r\nd"], stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        Assert.Equal(["message", "letter", "message"], stored.Select(e => e.Type.Value));
        Assert.Equal([null, null, "k-c"], stored.Select(e => e.IdempotencyKey));
    }

    [Fact]
    public async Task An_empty_stream_has_last_id_0_and_reads_nothing()
    {
        var stream = NewStream("empty");

        Assert.Equal(0, (await Log.GetHeadAsync(stream)).LastId);
        Assert.Empty(await ReadAllAsync(Log, stream));
    }

    [Fact]
    public async Task A_repeated_key_returns_the_original_id_and_stores_nothing()
    {
        var log = Log;
        var stream = NewStream("dedup");

        var first = await log.AppendAsync(stream, [Text("original", key: "msg-1")]);
        var again = await log.AppendAsync(stream, [Text("redelivered", key: "msg-1"), Text("new", key: "msg-2")]);
        var inOneCall = await log.AppendAsync(stream, [Text("x", key: "msg-3"), Text("x again", key: "msg-3")]);

        var epoch = (await log.GetHeadAsync(stream)).Epoch.Id;
        Assert.NotEmpty(epoch);
        Assert.Equal(new AppendResult(1, false, epoch), first[0]);
        Assert.Equal([new AppendResult(1, true, epoch), new AppendResult(2, false, epoch)], again);
        Assert.Equal([new AppendResult(3, false, epoch), new AppendResult(3, true, epoch)], inOneCall);
        Assert.Equal(["original", "new", "x"], (await ReadAllAsync(log, stream)).Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task Concurrent_duplicates_from_separate_writers_are_stored_once()
    {
        var writers = Writers(4);
        var stream = NewStream("racing-duplicates");

        for (var round = 0; round < 5; round++)
        {
            var key = $"redelivered-{round}";
            var results = await Task.WhenAll(writers.Select(log => Task.Run(() => log.AppendAsync(stream, [Text(key, key)]))));

            Assert.Single(results.Select(result => result[0].Id).Distinct());
            Assert.Single(results, result => !result[0].IsDuplicate);
        }

        Assert.Equal([1L, 2, 3, 4, 5], (await ReadAllAsync(writers[0], stream)).Select(e => e.Id));
    }

    [Fact]
    public async Task Racing_writers_get_gap_free_ids_with_each_call_of_up_to_99_contiguous_and_larger_calls_in_order()
    {
        // Separate writers, each with several callers: calls of 45 can be packed together, calls of 150 need more
        // than one transaction in a durable log.
        var writers = Writers(4);
        var stream = NewStream("contiguity");
        var calls = new ConcurrentBag<(int Size, long[] Ids)>();

        await Task.WhenAll(writers.SelectMany((log, writer) => Enumerable.Range(0, 3).Select(caller => Task.Run(async () =>
        {
            for (var call = 0; call < 4; call++)
            {
                var size = call == 3 ? 150 : 45;
                var texts = Enumerable.Range(0, size).Select(i => $"{writer}/{caller}/{call}/{i:D3}").ToList();
                var results = await log.AppendAsync(stream, [.. texts.Select(text => Text(text, key: text))]);
                calls.Add((size, [.. results.Select(result => result.Id)]));
            }
        }))));

        Assert.All(calls, call => Assert.Equal(call.Ids.Order(), call.Ids));
        Assert.All(calls.Where(call => call.Size <= IEventLog.MaxAtomicEvents), call => Assert.Equal(call.Ids[0] + call.Size - 1, call.Ids[^1]));
        var stored = await ReadAllAsync(writers[0], stream);
        var total = 4 * 3 * ((3 * 45) + 150);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(total, stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)).Distinct().Count());
    }

    [Fact]
    public async Task Reads_page_through_a_long_stream_in_order_and_keep_to_their_range()
    {
        var log = Log;
        var stream = NewStream("paging");
        for (var written = 0; written < 2_500; written += 250)
        {
            await log.AppendAsync(stream, [.. Enumerable.Range(written + 1, 250).Select(i => Text($"e{i}"))]);
        }

        var pages = new List<IReadOnlyList<StoredEvent>>();
        await foreach (var page in log.ReadAsync(stream, 0, 2_500))
        {
            pages.Add(page);
        }

        var middle = new List<StoredEvent>();
        await foreach (var page in log.ReadAsync(stream, 1_000, 1_500))
        {
            middle.AddRange(page);
        }

        Assert.True(pages.Count > 1, "A long read comes back in more than one page.");
        Assert.Equal(Enumerable.Range(1, 2_500).Select(i => (long)i), pages.SelectMany(page => page).Select(e => e.Id));
        Assert.Equal(Enumerable.Range(1_001, 500).Select(i => (long)i), middle.Select(e => e.Id));
        Assert.Empty(await log.ReadAsync(stream, 2_500, 2_500).ToListAsync());
    }

    [Fact]
    public async Task Data_of_256_KiB_is_stored_whole()
    {
        var log = Log;
        var stream = NewStream("large");
        var text = string.Concat(Enumerable.Range(0, EventData.MaxBytes / 8).Select(i => $"ü{i % 10000:D4}€\n"));
        var data = Encoding.UTF8.GetBytes(text)[..(EventData.MaxBytes - 3)];
        while (!System.Text.Unicode.Utf8.IsValid(data))
        {
            data = data[..^1];
        }

        var exactly = Encoding.UTF8.GetBytes(new string('a', EventData.MaxBytes));
        await log.AppendAsync(stream, [new NewEvent(EventType.Message, data), new NewEvent(EventType.Message, exactly)]);

        var stored = await ReadAllAsync(log, stream);
        Assert.Equal(data, stored[0].Data.ToArray());
        Assert.Equal(exactly, stored[1].Data.ToArray());
    }
}
