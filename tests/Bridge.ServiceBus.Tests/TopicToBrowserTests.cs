using System.Text;
using Azure.Messaging.ServiceBus;
using Bridge.DevKit;
using Bridge.Ingestion;
using Bridge.Testing;

namespace Bridge.ServiceBus.Tests;

/// <summary>Messages published to the topic, as producers publish them, reach SSE subscribers as events.</summary>
public sealed class TopicToBrowserTests
{
    [Fact]
    public async Task Messages_sent_singly_and_in_batches_reach_a_subscriber_in_publish_order_with_gap_free_ids()
    {
        await using var path = await IngestPath.StartAsync();

        // One receiver takes batches one after another, so publish order is storage order (see docs: Guarantees).
        var server = await path.StartServerAsync(new Dictionary<string, string> { ["ServiceBusIngest__Receivers"] = "1" });
        var stream = TestNames.Stream("topic");
        await path.Producer.SendMessageAsync(Message(stream, "m1", "order.created", "first"));
        await path.Producer.SendMessagesAsync(Enumerable.Range(2, 20).Select(i => Message(stream, $"m{i}", "order.updated", $"update {i}")));
        await path.Producer.SendMessageAsync(Message(stream, "m22", subject: null, "no subject"));

        var events = await IngestPath.ReadStreamAsync(server, stream, 22);

        Assert.Equal(Enumerable.Range(1, 22).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal(["first", .. Enumerable.Range(2, 20).Select(i => $"update {i}"), "no subject"], events.Select(e => e.Data));
        Assert.Equal(["order.created", .. Enumerable.Repeat("order.updated", 20), "message"], events.Select(e => e.Type));
    }

    [Fact]
    public async Task A_MessageId_delivered_again_in_a_later_batch_is_stored_once()
    {
        // Without the topic's duplicate detection, only Bridge's idempotency keys stand between a resend and a copy.
        await using var path = await IngestPath.StartAsync(duplicateDetection: false);
        var server = await path.StartServerAsync();
        var stream = TestNames.Stream("resend");
        await path.Producer.SendMessageAsync(Message(stream, "order-1", "t", "once"));
        Assert.Single(await IngestPath.ReadStreamAsync(server, stream, 1));

        await path.Producer.SendMessageAsync(Message(stream, "order-1", "t", "once"));
        await path.Producer.SendMessageAsync(Message(stream, "order-2", "t", "next"));
        var events = await IngestPath.ReadStreamAsync(server, stream, 2);

        Assert.Equal([(1L, "once"), (2L, "next")], events.Select(e => (e.Id, e.Data)));
    }

    [Fact]
    public async Task Poison_messages_go_to_the_dead_letter_queue_with_a_reason_and_the_rest_are_stored()
    {
        await using var path = await IngestPath.StartAsync();
        var server = await path.StartServerAsync(new Dictionary<string, string> { ["Telemetry__PrometheusScrapeEndpoint"] = "true" });
        var stream = TestNames.Stream("poison");
        await path.Producer.SendMessagesAsync(
        [
            Message("not a valid stream!", "bad-stream", "t", "x"),
            new ServiceBusMessage("nowhere") { MessageId = "no-stream" },
            new ServiceBusMessage(new byte[] { 0x7b, 0xff, 0xfe, 0x7d }) { MessageId = "not-utf8", ApplicationProperties = { ["stream"] = stream } },
            Message(stream, "good", "t", "fine"),
        ]);

        var events = await IngestPath.ReadStreamAsync(server, stream, 1);
        var dead = await path.DeadLettersAsync(3, TimeSpan.FromSeconds(30));

        Assert.Equal("fine", Assert.Single(events).Data);
        Assert.Equal(
            [("bad-stream", DeadLetterReasons.InvalidStreamName), ("no-stream", DeadLetterReasons.NoStream), ("not-utf8", DeadLetterReasons.DataNotUtf8)],
            dead.Select(m => (m.MessageId, m.DeadLetterReason)).OrderBy(m => m.MessageId));
        Assert.All(dead, m => Assert.False(string.IsNullOrWhiteSpace(m.DeadLetterErrorDescription)));

        // The settlements, as Prometheus scrapes them (a settlement is counted just after the broker confirms it).
        var scraped = await server.Client.GetStringAsync("/metrics");
        for (var attempt = 0; attempt < 50 && !scraped.Contains("outcome=\"dead-lettered\"} 3", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            scraped = await server.Client.GetStringAsync("/metrics");
        }

        Assert.Contains("bridge_servicebus_messages_total{otel_scope_name=\"Bridge\",outcome=\"completed\"} 1", scraped, StringComparison.Ordinal);
        Assert.Contains("bridge_servicebus_messages_total{otel_scope_name=\"Bridge\",outcome=\"dead-lettered\"} 3", scraped, StringComparison.Ordinal);
    }

    internal static ServiceBusMessage Message(string stream, string messageId, string? subject, string data) =>
        new(Encoding.UTF8.GetBytes(data)) { MessageId = messageId, Subject = subject, ApplicationProperties = { ["stream"] = stream } };
}
