using System.Net.Http.Json;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.Tests;

/// <summary>
/// Several streams on one response, against Azurite with two instances: writers on both instances publish to every
/// stream while readers hop from instance to instance, across bounded lifetimes and their own drops mid-replay. Each
/// reader must see every stream's events exactly once, in order, resuming from the response's ids alone.
/// </summary>
public class MultiStreamResumeTests : IAsyncLifetime
{
    private const int EventsPerStream = 120;
    private readonly List<BridgeTestServer> _instances = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            _instances.Add(await BridgeTestServer.StartOnSharedAzuriteAsync(
                ("Sse:MaxDurationSeconds", "2"),
                ("Sse:RetryMilliseconds", "0"),
                // A small memory of recent events, so that resuming readers replay from storage and cross the seam there.
                ("Tail:RecentEventsBytes", "1024")));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }

    [Fact]
    public async Task Readers_hopping_between_instances_see_every_streams_events_once_and_in_order()
    {
        string[] streams = [TestNames.Stream("multi-x"), TestNames.Stream("multi-y"), TestNames.Stream("multi-z")];
        var url = $"/api/events?{string.Join('&', streams.Select(stream => $"stream={stream}"))}";
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        var readers = Enumerable.Range(0, 4).Select(reader => ReadAllAsync(url, streams, reader, dropAfter: 25 + (reader * 10), deadline.Token)).ToList();
        var writers = streams.Select((stream, index) => PublishAsync(stream, index, deadline.Token)).ToList();
        await Task.WhenAll(writers);
        var received = await Task.WhenAll(readers);

        foreach (var (perStream, connections) in received)
        {
            Assert.True(connections > 3, $"Only {connections} connections: the test did not cross enough seams.");
            foreach (var stream in streams)
            {
                Assert.Equal(Enumerable.Range(1, EventsPerStream).Select(n => $"{stream}/{n}"), perStream[stream]);
            }
        }
    }

    /// <summary>Publishes the stream's events in small batches, alternating between the instances.</summary>
    private async Task PublishAsync(string stream, int offset, CancellationToken cancellationToken)
    {
        for (var first = 1; first <= EventsPerStream; first += 3)
        {
            var client = _instances[(first + offset) % _instances.Count].Client;
            var batch = new { events = Enumerable.Range(first, 3).Select(n => new { data = $"{stream}/{n}" }) };
            using var response = await client.PostAsJsonAsync($"/api/streams/{stream}/events/batch", batch, cancellationToken);
            response.EnsureSuccessStatusCode();
            await Task.Delay(15, cancellationToken);
        }
    }

    /// <summary>
    /// Reads from the start until every stream is complete, each connection on the other instance than the last, and
    /// drops each connection after <paramref name="dropAfter"/> events, resuming like a browser from its last event id.
    /// </summary>
    private async Task<(Dictionary<string, List<string>> PerStream, int Connections)> ReadAllAsync(
        string url, string[] streams, int reader, int dropAfter, CancellationToken cancellationToken)
    {
        var perStream = streams.ToDictionary(stream => stream, _ => new List<string>());
        var cursor = "0";
        var connections = 0;
        bool Complete() => perStream.Values.All(events => events.Count >= EventsPerStream);
        while (!Complete())
        {
            var instance = _instances[(reader + connections++) % _instances.Count];
            await using var connection = await SseConnection.OpenAsync(instance.Client, url, cursor, cancellationToken);
            connection.Response.EnsureSuccessStatusCode();
            var inThisConnection = 0;
            while (!Complete() && inThisConnection++ < dropAfter && await connection.ReadEventAsync(cancellationToken) is { } received)
            {
                perStream[received.Stream ?? "(no stream named)"].Add(received.Type == "message" ? received.Data : received.Type);
            }

            cursor = connection.LastEventId;
        }

        return (perStream, connections);
    }
}
