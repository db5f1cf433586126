using System.Net;
using System.Text.Json;
using Bridge.Hub;
using Bridge.Subscribers;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Http.Tests.Endpoints;

/// <summary>The SSE endpoint over real HTTP: headers, cursor rules, gap notices, heartbeats and bounded lifetime.</summary>
public class SubscribeTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient Client => _server.Client;

    public async Task InitializeAsync() =>
        _server = await ApiTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sse:HeartbeatSeconds"] = "1",
            ["Sse:RetryMilliseconds"] = "1234",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_response_is_an_uncompressed_uncached_event_stream_that_opens_with_a_retry_hint()
    {
        var stream = TestNames.Stream("headers");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/streams/{stream}/events");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");

        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Waits.Within(10));
        using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[64];
        var read = await body.ReadAsync(first, Waits.Within(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.StartsWith("retry: 1234\n", System.Text.Encoding.UTF8.GetString(first, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_cursor_only_new_events_arrive_and_the_client_is_given_a_cursor_at_once()
    {
        var stream = TestNames.Stream("no-cursor");
        await Api.PublishIdAsync(Client, stream, "old 1");
        await Api.PublishIdAsync(Client, stream, "old 2");

        await using var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events");
        var next = connection.ReadEventAsync(Waits.Within(15));
        await WaitForSubscriberAsync();
        await Api.PublishIdAsync(Client, stream, "new");

        var received = await next;
        Assert.Equal((3L, "new"), (received!.Id, received.Data));
        Assert.Equal(1234, connection.RetryMilliseconds);
    }

    [Fact]
    public async Task Cursor_0_replays_the_whole_stream_then_continues_live()
    {
        var stream = TestNames.Stream("from-zero");
        for (var i = 1; i <= 3; i++)
        {
            await Api.PublishIdAsync(Client, stream, $"e{i}");
        }

        await using var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events?lastEventId=0");
        var replayed = await connection.ReadEventsAsync(3, Waits.Within(10));
        await Api.PublishIdAsync(Client, stream, "e4");
        var live = await connection.ReadEventAsync(Waits.Within(10));

        Assert.Equal(["e1", "e2", "e3", "e4"], replayed.Append(live!).Select(e => e.Data));
        Assert.Equal([1L, 2, 3, 4], replayed.Append(live!).Select(e => e.Id));
    }

    [Fact]
    public async Task The_last_event_id_header_wins_over_the_query_parameter()
    {
        var stream = TestNames.Stream("precedence");
        for (var i = 1; i <= 4; i++)
        {
            await Api.PublishIdAsync(Client, stream, $"e{i}");
        }

        await using var byHeader = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events?lastEventId=0", lastEventId: "2");
        await using var byQuery = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events?lastEventId=3");

        Assert.Equal([3L, 4], (await byHeader.ReadEventsAsync(2, Waits.Within(10))).Select(e => e.Id));
        Assert.Equal(4, (await byQuery.ReadEventAsync(Waits.Within(10)))!.Id);
    }

    [Theory]
    [InlineData("not-a-number", "malformed-cursor")]
    [InlineData("-5", "malformed-cursor")]
    [InlineData("99999", "cursor-ahead-of-stream")]
    public async Task A_cursor_that_cannot_be_honoured_gets_a_200_whose_first_event_is_a_gap_notice(string cursor, string reason)
    {
        var stream = TestNames.Stream("gap");
        await Api.PublishIdAsync(Client, stream, "e1");
        await Api.PublishIdAsync(Client, stream, "e2");

        await using var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events", lastEventId: cursor);
        var gap = await connection.ReadEventAsync(Waits.Within(10));
        await Api.PublishIdAsync(Client, stream, "e3");
        var next = await connection.ReadEventAsync(Waits.Within(10));

        Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
        Assert.Equal("bridge.gap", gap!.Type);
        Assert.Equal(2, gap.Id);
        using var data = JsonDocument.Parse(gap.Data);
        Assert.Equal(reason, data.RootElement.GetProperty("reason").GetString());
        Assert.Equal(cursor, data.RootElement.GetProperty("requested").GetString());
        Assert.Equal(2, data.RootElement.GetProperty("resumeAfter").GetInt64());
        Assert.Equal((3L, "e3"), (next!.Id, next.Data));
    }

    [Fact]
    public async Task An_idle_stream_sends_heartbeat_comments()
    {
        await using var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{TestNames.Stream("idle")}/events");
        var reading = connection.ReadEventAsync(Waits.Within(30));

        while (!connection.Received.Contains(": heartbeat", StringComparison.Ordinal) && !reading.IsCompleted)
        {
            await Task.Delay(50);
        }

        Assert.Contains(": heartbeat\n\n", connection.Received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_connections_frees_their_subscriptions_at_once()
    {
        var hub = _server.Services.GetRequiredService<StreamHub>();
        var stream = TestNames.Stream("release");
        var before = hub.Subscribers;
        var connections = new List<SseConnection>();
        for (var i = 0; i < 5; i++)
        {
            connections.Add(await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events"));
        }

        await Waits.Eventually(() => hub.Subscribers == before + 5);
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        await Waits.Eventually(() => hub.Subscribers == before);
    }

    private async Task WaitForSubscriberAsync() =>
        await Waits.Eventually(() => _server.Services.GetRequiredService<StreamHub>().Subscribers > 0);
}
