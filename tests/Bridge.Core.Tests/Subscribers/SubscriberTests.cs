using Bridge.Subscribers;

namespace Bridge.Core.Tests.Subscribers;

/// <summary>One client's queue: bounded, and ended once.</summary>
public class SubscriberTests
{
    [Fact]
    public void One_run_is_taken_into_an_empty_queue_however_large_but_past_the_limit_the_subscription_ends()
    {
        var overflows = 0;
        var subscriber = new Subscriber(long.MaxValue, bufferLimitBytes: 100, () => overflows++);

        Assert.True(subscriber.TryDeliver(new byte[500], 1, 0));
        Assert.False(subscriber.TryDeliver(new byte[10], 2, 0));

        Assert.Equal(SubscriberEnd.Overflow, subscriber.EndReason);
        Assert.Equal(1, overflows);
        Assert.True(subscriber.TryRead(out var queued));
        Assert.Equal(1, queued.LastId);
    }

    [Fact]
    public void Bytes_taken_off_the_queue_make_room_again()
    {
        var subscriber = new Subscriber(long.MaxValue, bufferLimitBytes: 100, () => { });

        Assert.True(subscriber.TryDeliver(new byte[80], 1, 0));
        Assert.True(subscriber.TryRead(out _));
        subscriber.Consumed(80);

        Assert.True(subscriber.TryDeliver(new byte[80], 2, 0));
        Assert.Null(subscriber.EndReason);
    }

    [Fact]
    public async Task Ending_wakes_a_waiting_reader_once_and_delivery_stops()
    {
        var subscriber = new Subscriber(long.MaxValue, bufferLimitBytes: 100, () => { });
        var waiting = subscriber.WaitToReadAsync().AsTask();

        Assert.True(subscriber.End(SubscriberEnd.Lifetime));
        Assert.False(subscriber.End(SubscriberEnd.Shutdown));

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SubscriberEnd.Lifetime, subscriber.EndReason);
        Assert.False(subscriber.TryDeliver(new byte[1], 1, 0));
    }
}
