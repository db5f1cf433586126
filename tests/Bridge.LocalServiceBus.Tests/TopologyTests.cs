namespace Bridge.LocalServiceBus.Tests;

public sealed class TopologyTests
{
    [Fact]
    public void The_shipped_config_declares_the_topic_and_subscriptions_local_settings_name()
    {
        var topology = Topology.Load(Path.Combine(AppContext.BaseDirectory, "Config.json"));

        var topic = Assert.Single(topology.Topics);
        Assert.Equal("bridge-events", topic.Name);
        Assert.True(topic.RequiresDuplicateDetection);
        Assert.Equal(["bridge", "bridge-sessions"], topic.Subscriptions.Select(s => s.Name));
        Assert.Equal([false, true], topic.Subscriptions.Select(s => s.RequiresSession));
        Assert.All(topic.Subscriptions, s => Assert.Equal((TimeSpan.FromMinutes(1), 10), (s.LockDuration, s.MaxDeliveryCount)));
    }

    [Fact]
    public void Queues_are_refused_with_a_message_that_says_what_is_served()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{ "UserConfig": { "Namespaces": [ { "Name": "ns", "Queues": [ { "Name": "q" } ], "Topics": [] } ] } }""");

        var failure = Assert.Throws<InvalidDataException>(() => Topology.Load(path));

        Assert.Contains("only topics", failure.Message, StringComparison.Ordinal);
        File.Delete(path);
    }
}
