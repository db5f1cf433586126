using System.Text;
using Bridge.Events;
using Bridge.Ingestion;
using OpenTelemetry.Trace;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bridge.Core.Tests.Ingestion;

/// <summary>Broker messages in, events and settle decisions out, with the same rules as every other way in.</summary>
public class IngestBatchProcessorTests
{
    [Fact]
    public async Task A_mixed_batch_stores_the_good_completes_the_duplicates_and_dead_letters_what_can_never_be_stored()
    {
        await using var engine = await Engine.StartAsync();
        var ingest = Processor(engine);
        var orders = StreamName.Parse("orders");
        var users = StreamName.Parse("users");
        var earlier = await ingest.IngestAsync([Message("m0", orders.Value, "placed", "earlier")], CancellationToken.None);

        var outcomes = await ingest.IngestAsync(
        [
            Message("m1", orders.Value, "placed", "first"),
            Message("m2", users.Value, null, "user event"),
            Message("m1", orders.Value, "placed", "same message id again"),
            Message("m0", orders.Value, "placed", "redelivered from the earlier batch"),
            Message("m3", null, null, "no stream at all"),
            Message("m4", "bad name!", null, "x"),
            Message("m5", orders.Value, null, new string('x', EventData.MaxBytes + 1)),
            new IncomingMessage("m6", null, null, null, new byte[] { 0xff, 0xfe }) with { SessionId = users.Value },
            Message("m7", orders.Value, "bridge.gap", "reserved type"),
            Message("m8", orders.Value, "shipped", "second"),
            new IncomingMessage("m9", SessionId: users.Value, Subject: "", StreamProperty: null, Body: "from the session id"u8.ToArray()),
            new IncomingMessage(null, SessionId: null, Subject: null, StreamProperty: users.Value, Body: "without a message id"u8.ToArray()),
        ], CancellationToken.None);

        Assert.Equal(SettleAction.Complete, earlier[0].Action);
        Assert.Equal(
            [SettleAction.Complete, SettleAction.Complete, SettleAction.Complete, SettleAction.Complete, SettleAction.DeadLetter, SettleAction.DeadLetter,
             SettleAction.DeadLetter, SettleAction.DeadLetter, SettleAction.DeadLetter, SettleAction.Complete, SettleAction.Complete, SettleAction.Complete],
            outcomes.Select(outcome => outcome.Action));
        Assert.Equal((2L, false), (outcomes[0].EventId!.Value, outcomes[0].IsDuplicate));
        Assert.Equal((2L, true), (outcomes[2].EventId!.Value, outcomes[2].IsDuplicate));
        Assert.Equal((1L, true), (outcomes[3].EventId!.Value, outcomes[3].IsDuplicate));
        Assert.Equal(
            [DeadLetterReasons.NoStream, DeadLetterReasons.InvalidStreamName, DeadLetterReasons.TooLarge, DeadLetterReasons.DataNotUtf8, DeadLetterReasons.InvalidEventType],
            outcomes.Where(outcome => outcome.Action == SettleAction.DeadLetter).Select(outcome => outcome.Reason));
        Assert.All(outcomes.Where(outcome => outcome.Action == SettleAction.DeadLetter), outcome => Assert.False(string.IsNullOrEmpty(outcome.Description)));

        var storedOrders = await ReadAsync(engine.Log, orders);
        Assert.Equal(["placed:earlier", "placed:first", "shipped:second"], storedOrders.Select(e => $"{e.Type}:{Encoding.UTF8.GetString(e.Data.Span)}"));
        Assert.Equal(["m0", "m1", "m8"], storedOrders.Select(e => e.IdempotencyKey));
        var storedUsers = await ReadAsync(engine.Log, users);
        Assert.Equal(["user event", "from the session id", "without a message id"], storedUsers.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        Assert.Null(storedUsers[^1].IdempotencyKey);
    }

    [Fact]
    public async Task Messages_without_a_stream_go_to_the_configured_default_stream_and_the_property_wins_over_the_session()
    {
        await using var engine = await Engine.StartAsync();
        var ingest = Processor(engine, new IngestOptions { DefaultStream = "fallback" });

        var outcomes = await ingest.IngestAsync(
        [
            Message("d1", null, null, "to the default"),
            new IncomingMessage("d2", SessionId: "ignored-session", Subject: null, StreamProperty: "named", Body: "to the property"u8.ToArray()),
        ], CancellationToken.None);

        Assert.All(outcomes, outcome => Assert.Equal(SettleAction.Complete, outcome.Action));
        Assert.Equal(1, (await engine.Log.GetHeadAsync(StreamName.Parse("fallback"))).LastId);
        Assert.Equal(1, (await engine.Log.GetHeadAsync(StreamName.Parse("named"))).LastId);
    }

    [Fact]
    public async Task The_deployments_name_and_type_lengths_apply_to_ingest_as_to_publishing()
    {
        await using var engine = await Engine.StartAsync();
        var ingest = Processor(engine, rules: new EventRulesOptions { MaxStreamNameLength = 8, MaxEventTypeLength = 4 });

        var outcomes = await ingest.IngestAsync(
        [
            Message("r1", "too-long-name", null, "x"),
            Message("r2", "short", "long-type", "x"),
            Message("r3", "short", "ok", "x"),
        ], CancellationToken.None);

        Assert.Equal([DeadLetterReasons.InvalidStreamName, DeadLetterReasons.InvalidEventType, null], outcomes.Select(outcome => outcome.Reason));
        Assert.Contains("Limits:MaxStreamNameLength", outcomes[0].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Published_messages_reach_this_processs_subscribers_at_once()
    {
        await using var engine = await Engine.StartAsync(tail: new Bridge.Hub.TailOptions { PollIntervalMilliseconds = 60_000 });
        await using var response = engine.Subscribe(StreamName.Parse("live"));
        await Engine.EventuallyAsync(() => engine.Hub.Subscribers == 1);

        await Processor(engine).IngestAsync([Message("l1", "live", "ping", "from the broker")], CancellationToken.None);

        Assert.Equal(("ping", "from the broker"), (await response.NextAsync()) is { } next ? (next.Type, next.Data) : default);
    }

    internal static IncomingMessage Message(string id, string? stream, string? subject, string body) =>
        new(id, SessionId: null, subject, stream, Encoding.UTF8.GetBytes(body));

    [Fact]
    public async Task Storing_a_message_continues_its_producers_trace_and_a_batch_links_every_producer()
    {
        var spans = new List<System.Diagnostics.Activity>();
        using var tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .AddSource(Bridge.Telemetry.BridgeMetrics.ActivitySourceName)
            .AddInMemoryExporter(spans)
            .Build();
        await using var engine = await Engine.StartAsync();
        var ingest = Processor(engine);
        const string producer = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        const string other = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

        await ingest.IngestAsync([Message("t1", "traced", null, "one") with { DiagnosticId = producer }], CancellationToken.None);
        await ingest.IngestAsync(
            [Message("t2", "traced", null, "two") with { DiagnosticId = producer }, Message("t3", "traced", null, "three") with { DiagnosticId = other }],
            CancellationToken.None);
        tracing.ForceFlush();

        var single = spans.First(span => span.OperationName == "bridge.ingest");
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", single.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", single.ParentSpanId.ToHexString());
        var append = spans.First(span => span.OperationName == "bridge.publish" && span.ParentSpanId == single.SpanId);
        Assert.Equal(single.TraceId, append.TraceId);
        var batch = spans.Last(span => span.OperationName == "bridge.ingest");
        Assert.Equal(
            ["0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"],
            batch.Links.Select(link => link.Context.TraceId.ToHexString()));
    }

    private static IngestBatchProcessor Processor(Engine engine, IngestOptions? options = null, EventRulesOptions? rules = null) =>
        new(engine.Publisher, new EventRules(Options.Create(rules ?? new EventRulesOptions())), Options.Create(options ?? new IngestOptions()), NullLogger<IngestBatchProcessor>.Instance);

    private static async Task<List<StoredEvent>> ReadAsync(IEventLog log, StreamName stream)
    {
        var all = new List<StoredEvent>();
        await foreach (var page in log.ReadAsync(stream, 0, (await log.GetHeadAsync(stream)).LastId))
        {
            all.AddRange(page);
        }

        return all;
    }
}
