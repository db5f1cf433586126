using System.Text;
using Bridge.Events;
using Bridge.Ingestion;
using Bridge.TableStorage;
using Azure.Data.Tables;
using Bridge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bridge.Core.Tests.Ingestion;

/// <summary>Service Bus messages in, events and settle decisions out, on a real event log on Azurite.</summary>
public class IngestBatchProcessorTests : IAsyncLifetime
{
    private readonly string _table = TestNames.Table();
    private AzuriteProcess _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    [Fact]
    public async Task A_mixed_batch_stores_the_good_completes_the_duplicates_and_dead_letters_what_can_never_be_stored()
    {
        using var log = CreateLog(_azurite.ConnectionString);
        var ingest = new IngestBatchProcessor(log, Options.Create(new IngestOptions()), NullLogger<IngestBatchProcessor>.Instance);
        var orders = TestNames.Stream("orders");
        var users = TestNames.Stream("users");
        var earlier = await ingest.IngestAsync([Message("m0", orders, "placed", "earlier")], CancellationToken.None);

        var outcomes = await ingest.IngestAsync(
        [
            Message("m1", orders, "placed", "first"),
            Message("m2", users, null, "user event"),
            Message("m1", orders, "placed", "same message id again"),
            Message("m0", orders, "placed", "redelivered from the earlier batch"),
            Message("m3", null, null, "no stream at all"),
            Message("m4", "bad name!", null, "x"),
            Message("m5", orders, null, new string('x', EventData.MaxBytes + 1)),
            new IncomingMessage("m6", null, null, null, new byte[] { 0xff, 0xfe }) with { SessionId = users },
            Message("m7", orders, "bridge.gap", "reserved type"),
            Message("m8", orders, "shipped", "second"),
            new IncomingMessage("m9", SessionId: users, Subject: "", StreamProperty: null, Body: "from the session id"u8.ToArray()),
        ], CancellationToken.None);

        Assert.Equal(SettleAction.Complete, earlier[0].Action);
        Assert.Equal(
            [SettleAction.Complete, SettleAction.Complete, SettleAction.Complete, SettleAction.Complete, SettleAction.DeadLetter, SettleAction.DeadLetter,
             SettleAction.DeadLetter, SettleAction.DeadLetter, SettleAction.DeadLetter, SettleAction.Complete, SettleAction.Complete],
            outcomes.Select(outcome => outcome.Action));
        Assert.Equal((2L, false), (outcomes[0].EventId!.Value, outcomes[0].IsDuplicate));
        Assert.Equal((2L, true), (outcomes[2].EventId!.Value, outcomes[2].IsDuplicate));
        Assert.Equal((1L, true), (outcomes[3].EventId!.Value, outcomes[3].IsDuplicate));
        Assert.Equal(
            [DeadLetterReasons.NoStream, DeadLetterReasons.InvalidStreamName, DeadLetterReasons.TooLarge, DeadLetterReasons.DataNotUtf8, DeadLetterReasons.InvalidEventType],
            outcomes.Where(outcome => outcome.Action == SettleAction.DeadLetter).Select(outcome => outcome.Reason));
        Assert.All(outcomes.Where(outcome => outcome.Action == SettleAction.DeadLetter), outcome => Assert.False(string.IsNullOrEmpty(outcome.Description)));

        var storedOrders = await ReadAsync(log, orders);
        Assert.Equal(["placed:earlier", "placed:first", "shipped:second"], storedOrders.Select(e => $"{e.Type}:{Encoding.UTF8.GetString(e.Data.Span)}"));
        Assert.Equal(["m0", "m1", "m8"], storedOrders.Select(e => e.IdempotencyKey));
        var storedUsers = await ReadAsync(log, users);
        Assert.Equal(["user event", "from the session id"], storedUsers.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    [Fact]
    public async Task Messages_without_a_stream_go_to_the_configured_default_stream_and_the_property_wins_over_the_session()
    {
        using var log = CreateLog(_azurite.ConnectionString);
        var fallback = TestNames.Stream("default");
        var named = TestNames.Stream("named");
        var ingest = new IngestBatchProcessor(log, Options.Create(new IngestOptions { DefaultStream = fallback }), NullLogger<IngestBatchProcessor>.Instance);

        var outcomes = await ingest.IngestAsync(
        [
            Message("d1", null, null, "to the default"),
            new IncomingMessage("d2", SessionId: "ignored-session", Subject: null, StreamProperty: named, Body: "to the property"u8.ToArray()),
        ], CancellationToken.None);

        Assert.All(outcomes, outcome => Assert.Equal(SettleAction.Complete, outcome.Action));
        Assert.Equal(1, await log.GetLastIdAsync(StreamName.Parse(fallback)));
        Assert.Equal(1, await log.GetLastIdAsync(StreamName.Parse(named)));
    }

    [Fact]
    public async Task When_storage_fails_mid_batch_the_messages_are_abandoned_and_their_redelivery_stores_each_exactly_once()
    {
        await using var relay = TcpRelay.Start(_azurite.Port);
        var commits = new LocalCommitFeed();
        using var log = CreateLog(AzuriteProcess.ConnectionStringFor(relay.Port), commits);
        var ingest = new IngestBatchProcessor(log, Options.Create(new IngestOptions()), NullLogger<IngestBatchProcessor>.Instance);
        var stream = TestNames.Stream("mid-batch");
        var batch = Enumerable.Range(1, 250).Select(i => Message($"msg-{i}", stream, null, $"event {i}")).ToList();

        // Storage goes away right after the first of the batch's three transactions commits.
        var firstCommit = 0;
        commits.Committed += (_, _) =>
        {
            if (Interlocked.Exchange(ref firstCommit, 1) == 0)
            {
                relay.Refuse();
            }
        };
        var failed = await ingest.IngestAsync(batch, CancellationToken.None);

        Assert.All(failed, outcome => Assert.Equal(SettleAction.Abandon, outcome.Action));
        relay.Restore();
        using var direct = CreateLog(_azurite.ConnectionString);
        var storedBeforeRedelivery = await direct.GetLastIdAsync(StreamName.Parse(stream));
        Assert.InRange(storedBeforeRedelivery, 1, 249);

        var redelivered = await ingest.IngestAsync(batch, CancellationToken.None);

        Assert.All(redelivered, outcome => Assert.Equal(SettleAction.Complete, outcome.Action));
        Assert.Equal(storedBeforeRedelivery, redelivered.Count(outcome => outcome.IsDuplicate));
        var stored = await ReadAsync(direct, stream);
        Assert.Equal(Enumerable.Range(1, 250).Select(i => $"event {i}"), stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
    }

    private static IncomingMessage Message(string id, string? stream, string? subject, string body) =>
        new(id, SessionId: null, subject, stream, Encoding.UTF8.GetBytes(body));

    private TableEventLog CreateLog(string connectionString, LocalCommitFeed? commits = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(20);
        return new TableEventLog(
            new TableServiceClient(connectionString, clientOptions),
            Options.Create(new TableEventLogOptions { EventsTable = _table }),
            commits ?? new LocalCommitFeed(),
            TimeProvider.System,
            NullLogger<TableEventLog>.Instance);
    }

    private static async Task<List<StoredEvent>> ReadAsync(IEventLog log, string stream)
    {
        var name = StreamName.Parse(stream);
        var all = new List<StoredEvent>();
        await foreach (var page in log.ReadAsync(name, 0, await log.GetLastIdAsync(name)))
        {
            all.AddRange(page);
        }

        return all;
    }
}
