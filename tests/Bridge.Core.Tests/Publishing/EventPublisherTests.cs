using Bridge.Events;
using Bridge.Hub;

namespace Bridge.Core.Tests.Publishing;

/// <summary>Publishing appends to the log, then hands what was committed to this process's subscribers.</summary>
public class EventPublisherTests
{
    private static readonly StreamName Stream = StreamName.Parse("published");

    [Fact]
    public async Task A_publish_reaches_this_processs_subscribers_at_once_without_a_poll()
    {
        // The clock never moves, so the tail never polls: anything delivered came from the publisher.
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(Stream);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await engine.PublishAsync(Stream, "one", "two");
        await engine.PublishAsync(Stream, "three");

        Assert.Equal(["one", "two", "three"], (await response.TakeAsync(3)).Select(e => e.Data));
    }

    [Fact]
    public async Task Duplicates_are_stored_and_delivered_once()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(Stream);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        var first = await engine.Publisher.PublishAsync(Stream, [Engine.Event("a", key: "k1")], CancellationToken.None);
        var again = await engine.Publisher.PublishAsync(Stream, [Engine.Event("a again", key: "k1"), Engine.Event("b", key: "k2")], CancellationToken.None);

        var epoch = first[0].Epoch;
        Assert.Equal([new AppendResult(1, false, epoch)], first);
        Assert.Equal([new AppendResult(1, true, epoch), new AppendResult(2, false, epoch)], again);
        Assert.Equal(["a", "b"], (await response.TakeAsync(2)).Select(e => e.Data));
    }

    [Fact]
    public async Task Concurrent_publishers_reach_a_subscriber_gap_free_in_id_order()
    {
        await using var engine = await Engine.StartAsync(tail: new TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(Stream);
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(publisher => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await engine.PublishAsync(Stream, $"{publisher}-{i}");
            }
        })));

        Assert.Equal(Enumerable.Range(1, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), (await response.TakeAsync(200)).Select(e => e.Id));
    }
}
