using Bridge.LoadHarness.Scenarios;

namespace Bridge.LoadHarness.Tests;

/// <summary>Each scenario, end to end with small numbers: real Azurite, real servers, real clients.</summary>
public class HarnessSmokeTests
{
    private static readonly Report Quiet = new(TextWriter.Null);

    [Fact]
    public async Task Ingest_measures_every_configuration_and_counts_about_one_entity_per_event()
    {
        var result = await IngestScenario.RunAsync(Quiet, Args("--ingest-events", "400", "--ingest-rounds", "1", "--call-size", "100"));

        Assert.Equal(4, result.Configurations.Count);
        Assert.All(result.Configurations.Values, configuration =>
        {
            Assert.True(configuration.Ratio > 0);
            Assert.InRange(configuration.EntitiesPerEvent, 1.0, 1.2);
        });
    }

    [Fact]
    public async Task Replay_reads_the_whole_stream_through_a_server()
    {
        var result = await ReplayScenario.RunAsync(Quiet, Args("--replay-events", "1500", "--replay-rounds", "1"));

        Assert.True(result.RawRate > 0);
        Assert.True(result.BridgeRate > 0);
    }

    [Fact]
    public async Task Fan_out_delivers_every_event_to_every_connection_of_both_servers()
    {
        var results = await FanOutScenario.RunAsync(Quiet, Args("--connections", "20", "--publishes", "2", "--settle-seconds", "0"));

        Assert.Equal(["Bridge", "Node http + res.write"], results.Select(r => r.Name));
        Assert.All(results, result =>
        {
            Assert.Equal(20, result.Connections);
            Assert.True(result.AllDelivered);
        });
    }

    [Fact]
    public async Task Latency_takes_every_sample_within_and_across_processes()
    {
        var result = await LatencyScenario.RunAsync(Quiet, Args("--samples", "5", "--cross-samples", "2", "--poll-ms", "200", "--warmup-seconds", "0"));

        Assert.Equal(5, result.SameProcessSamples);
        Assert.Equal(2, result.CrossProcessSamples);
    }

    [Fact]
    public async Task Storage_reads_do_not_grow_with_the_number_of_clients()
    {
        var result = await StorageCostScenario.RunAsync(Quiet, Args("--window-seconds", "3", "--warmup-seconds", "1", "--clients", "25"));

        var idleOne = result.Phases[0];
        var idleMany = result.Phases[1];
        Assert.Equal((1, 25), (idleOne.Clients, idleMany.Clients));
        Assert.InRange(idleMany.ReadsPerSecond, 0.1, idleOne.ReadsPerSecond + 1);
    }

    [Fact]
    public async Task Topic_carries_every_message_to_the_subscribers_with_one_server_and_with_two()
    {
        // Every measurement throws unless each event reached its subscriber.
        var result = await TopicScenario.RunAsync(Quiet, Args(
            "--topic-events", "400", "--topic-rounds", "1", "--topic-warmup-events", "80", "--topic-latency-samples", "3"));

        Assert.True(result.TopicToHttpRatio > 0);
        Assert.True(result.TwoServersToHttpRatio > 0);
        Assert.Equal(3, result.LatencySamples);
    }

    [Fact]
    public async Task Writers_leave_the_stream_gap_free_with_one_two_and_four_processes()
    {
        var result = await WritersScenario.RunAsync(Quiet, Args("--writers-events", "200", "--writers-publishers", "8", "--writers-rounds", "1"));

        Assert.True(result.AllGapFree);
        Assert.Equal([1, 2, 4], result.RatioToOneWriter.Keys.Order());
        Assert.All(result.RatioToOneWriter.Values, ratio => Assert.True(ratio > 0));
    }

    [Fact]
    public async Task Publish_measures_single_and_batch_publishes_against_raw_writes_and_prices_a_refusal()
    {
        var result = await PublishScenario.RunAsync(Quiet, Args("--publish-events", "300", "--publish-warmup", "300", "--publish-publishers", "8", "--publish-rounds", "1"));

        Assert.Equal(0, result.RefusedOnDefaultLimits);
        Assert.True(result.SingleRatio > 0 && result.BatchRatio > 0);
        Assert.True(result.RefusalCostRatio > 0);
    }

    [Fact]
    public async Task Http2_measures_memory_per_subscription_on_both_protocols_and_delivers_to_all()
    {
        var result = await Http2Scenario.RunAsync(Quiet, Args("--h2-subscriptions", "100", "--h2-streams-per-connection", "50", "--settle-seconds", "0"));

        Assert.True(result.AllDelivered);
    }

    [Fact]
    public async Task Multi_stream_measures_both_kinds_of_subscription_and_delivers_every_event_to_every_connection()
    {
        var results = await MultiStreamScenario.RunAsync(Quiet, Args("--connections", "20", "--publishes", "2", "--settle-seconds", "0"));

        Assert.Equal(["one stream", "5 streams"], results.Select(r => r.Name));
        Assert.All(results, result =>
        {
            Assert.Equal(20, result.Connections);
            Assert.True(result.AllDelivered);
        });
    }

    private static Options Args(params string[] args) => Options.Parse(args);
}
