using Bridge.Events;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Server.Tests;

/// <summary>
/// The seam between replay and live: clients join at every point of a stream that is being written to, and some drop
/// and reconnect in the middle of their replay. Each must see its exact suffix of the stream, once, in order.
/// </summary>
public class ReplaySeamTests : IAsyncLifetime
{
    private BridgeTestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, new Dictionary<string, string?>
        {
            // A small in-memory buffer, so that late joiners replay from storage and cross the seam there.
            ["Tail:RecentEventsBytes"] = "2048",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Clients_joining_and_rejoining_while_events_are_published_see_no_gap_and_no_duplicate()
    {
        var stream = TestNames.Stream("seam");
        const int total = 600;
        var url = $"/api/streams/{stream}/events";

        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < total; i += 5)
            {
                using var content = System.Net.Http.Json.JsonContent.Create(new { events = Enumerable.Range(i + 1, 5).Select(n => new { data = $"e{n}" }) });
                using var response = await _server.Client.PostAsync($"{url}/batch", content);
                response.EnsureSuccessStatusCode();
            }
        });

        var readers = new List<Task<(long From, List<SseEvent> Events)>>();
        for (var joiner = 0; joiner < 12; joiner++)
        {
            await Task.Delay(40);
            var from = joiner % 3 == 0 ? 0 : (joiner * 37) % 200;
            var dropAfter = joiner % 2 == 0 ? 25 : int.MaxValue;
            readers.Add(ReadAsync(url, from, total, dropAfter));
        }

        await publishing;
        foreach (var (from, events) in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range((int)from + 1, total - (int)from).Select(i => (long)i), events.Select(e => e.Id));
            Assert.Equal(events.Select(e => $"e{e.Id}"), events.Select(e => e.Data));
        }
    }

    /// <summary>
    /// Joins once the stream holds <paramref name="from"/> events (a cursor beyond the end gets a gap notice instead),
    /// reads to <paramref name="until"/>, dropping the connection after <paramref name="dropAfter"/> events and resuming
    /// like a browser.
    /// </summary>
    private async Task<(long, List<SseEvent>)> ReadAsync(string url, long from, long until, int dropAfter)
    {
        var log = _server.Services.GetRequiredService<IEventLog>();
        var stream = StreamName.Parse(url.Split('/')[3]);
        var token = Waits.Within(60);
        while ((await log.GetHeadAsync(stream, token)).LastId < from)
        {
            await Task.Delay(10, token);
        }

        var events = new List<SseEvent>();
        var cursor = from.ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (events.Count == 0 || events[^1].Id < until)
        {
            await using var connection = await SseConnection.OpenAsync(_server.Client, url, cursor, token);
            var inThisConnection = 0;
            while (await connection.ReadEventAsync(token) is { } received)
            {
                events.Add(received);
                cursor = connection.LastEventId;
                if (received.Id >= until || ++inThisConnection >= dropAfter)
                {
                    break;
                }
            }

            dropAfter = int.MaxValue;
        }

        return (from, events);
    }
}
