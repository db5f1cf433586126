using System.Text;
using Bridge.DevKit;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Ingestion;
using Bridge.Publishing;
using Bridge.Subscribers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Broker ingest over the Table log when storage fails part-way through a batch: what was committed stays, the rest
/// is abandoned, and the redelivery stores each message exactly once.
/// </summary>
public class IngestOverTableStorageTests
{
    [Fact]
    public async Task When_storage_fails_mid_batch_the_messages_are_abandoned_and_their_redelivery_stores_each_exactly_once()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = TestNames.Table();
        await using var relay = TcpRelay.Start(azurite.Port);
        await using var log = EventLogs.Create(AzuriteProcess.ConnectionStringFor(relay.Port), table);
        var metrics = new Bridge.Telemetry.BridgeMetrics();
        await using var hub = new StreamHub(log, Options.Create(new TailOptions()), Options.Create(new SseOptions()), TimeProvider.System, NullLoggerFactory.Instance, metrics);
        var ingest = new IngestBatchProcessor(
            new EventPublisher(log, hub, TimeProvider.System, metrics),
            new EventRules(Options.Create(new EventRulesOptions())),
            Options.Create(new IngestOptions()),
            NullLogger<IngestBatchProcessor>.Instance);
        var stream = TestNames.Stream("mid-batch");
        var batch = Enumerable.Range(1, 250).Select(i => new IncomingMessage($"msg-{i}", null, null, stream, Encoding.UTF8.GetBytes($"event {i}"))).ToList();

        // 250 events take three transactions; storage goes away as the second one is sent.
        relay.RefuseAt("/$batch", occurrence: 2);
        var failed = await ingest.IngestAsync(batch, CancellationToken.None);

        Assert.All(failed, outcome => Assert.Equal(SettleAction.Abandon, outcome.Action));
        relay.Restore();
        await using var direct = EventLogs.Create(azurite.ConnectionString, table);
        var storedBeforeRedelivery = (await direct.GetHeadAsync(StreamName.Parse(stream))).LastId;
        Assert.Equal(99, storedBeforeRedelivery);

        var redelivered = await ingest.IngestAsync(batch, CancellationToken.None);

        Assert.All(redelivered, outcome => Assert.Equal(SettleAction.Complete, outcome.Action));
        Assert.Equal(99, redelivered.Count(outcome => outcome.IsDuplicate));
        var stored = await EventLogs.ReadAllAsync(direct, StreamName.Parse(stream));
        Assert.Equal(Enumerable.Range(1, 250).Select(i => $"event {i}"), stored.Select(e => Encoding.UTF8.GetString(e.Data.Span)));
        await Tables.DeleteIfExistsAsync(azurite.ConnectionString, table);
    }
}
