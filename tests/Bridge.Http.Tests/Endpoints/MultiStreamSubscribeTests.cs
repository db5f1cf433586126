using System.Net;
using Bridge.DevKit;
using Bridge.Hub;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Http.Tests.Endpoints;

/// <summary>
/// <c>GET /api/events?stream=a&amp;stream=b</c> over real HTTP: how streams are named, what a bad request gets, and
/// that the response's ids resume every stream through the <c>Last-Event-ID</c> header.
/// </summary>
public class MultiStreamSubscribeTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient Client => _server.Client;

    public async Task InitializeAsync() =>
        _server = await ApiTestServer.StartAsync(("Limits:MaxStreamsPerSubscription", "3"), ("Sse:RetryMilliseconds", "1234"));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Streams_named_by_repeated_or_comma_separated_parameters_replay_and_go_live_on_one_response()
    {
        var (a, b, c) = (TestNames.Stream("multi-a"), TestNames.Stream("multi-b"), TestNames.Stream("multi-c"));
        await Api.PublishIdAsync(Client, a, "a1");
        await Api.PublishIdAsync(Client, b, "b1", type: "greeting");
        await Api.PublishIdAsync(Client, c, "c1");

        await using var connection = await SseConnection.OpenAsync(Client, $"/api/events?stream={c}&stream={a},{b}&lastEventId=0");
        var replayed = await connection.ReadEventsAsync(3, Waits.Within(15));
        await Waits.Eventually(() => _server.Services.GetRequiredService<StreamHub>().Subscribers == 3);
        await Api.PublishIdAsync(Client, b, "b2", type: "greeting");
        var live = await connection.ReadEventAsync(Waits.Within(15));

        Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
        Assert.Equal(1234, connection.RetryMilliseconds);
        Assert.Equal([$"{a}/message/a1", $"{b}/greeting/b1", $"{c}/message/c1", $"{b}/greeting/b2"], replayed.Append(live!).Select(e => $"{e.Stream}/{e.Type}/{e.Data}"));
    }

    [Fact]
    public async Task The_last_event_id_header_resumes_every_stream_exactly()
    {
        var (a, b) = (TestNames.Stream("resume-a"), TestNames.Stream("resume-b"));
        var url = $"/api/events?stream={a}&stream={b}";
        string cursor;
        await using (var first = await SseConnection.OpenAsync(Client, url + "&lastEventId=0"))
        {
            await Waits.Eventually(() => _server.Services.GetRequiredService<StreamHub>().Subscribers == 2);
            await Api.PublishIdAsync(Client, a, "a1");
            await Api.PublishIdAsync(Client, b, "b1");
            await first.ReadEventsAsync(2, Waits.Within(15));
            cursor = first.LastEventId;
        }

        await Api.PublishIdAsync(Client, b, "b2");
        await Api.PublishIdAsync(Client, a, "a2");
        await using var second = await SseConnection.OpenAsync(Client, url, lastEventId: cursor);
        var resumed = await second.ReadEventsAsync(2, Waits.Within(15));

        Assert.Equal([$"{a}/a2", $"{b}/b2"], resumed.Select(e => $"{e.Stream}/{e.Data}"));
    }

    [Theory]
    [InlineData("abcdef~1~1")]
    [InlineData("~~")]
    [InlineData("0~99999999999999999999~1")]
    [InlineData("LONG")]
    public async Task A_malformed_or_forged_cursor_gets_a_gap_notice_for_each_stream_never_an_error(string cursor)
    {
        var (a, b) = (TestNames.Stream("forged-a"), TestNames.Stream("forged-b"));
        await Api.PublishIdAsync(Client, a, "a1");
        cursor = cursor == "LONG" ? new string('7', 8_000) : cursor;

        await using var connection = await SseConnection.OpenAsync(Client, $"/api/events?stream={a}&stream={b}", lastEventId: cursor);
        var gaps = await connection.ReadEventsAsync(2, Waits.Within(15));

        Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
        Assert.Equal([a, b], gaps.Select(gap => gap.Stream));
        Assert.All(gaps, gap => Assert.Equal("bridge.gap", gap.Type));
        Assert.All(gaps, gap => Assert.Contains("\"malformed-cursor\"", gap.Data, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "invalid-stream-name", "?stream=a&stream=b")]
    [InlineData("?stream=", "invalid-stream-name", "required")]
    [InlineData("?stream=ok&stream=not%20ok", "invalid-stream-name", "'not ok'")]
    [InlineData("?stream=twice&stream=twice", "invalid-stream-name", "named twice")]
    [InlineData("?stream=s1,s2&stream=s3,s4", "too-many-streams", "Limits:MaxStreamsPerSubscription")]
    public async Task A_bad_list_of_streams_gets_400_saying_what_to_change(string query, string problem, string detail)
    {
        using var response = await Client.GetAsync($"/api/events{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await Api.ProblemAsync(response);
        Assert.Equal($"urn:bridge:problem:{problem}", body.GetProperty("type").GetString());
        Assert.Contains(detail, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
