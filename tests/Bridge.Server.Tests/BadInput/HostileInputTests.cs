using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Bridge.Events;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Bridge.Server.Tests.BadInput;

/// <summary>
/// The hostile-input corpus against a server configured as in production (tokens required), over raw sockets: every
/// case gets a 4xx or its documented answer, none gets a 5xx or hangs, nothing refused is stored (and nothing accepted
/// is stored differently), and the server is healthy afterwards. Slow-request attacks follow, one by one.
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private readonly CapturingLoggerProvider _logs = new();
    private readonly string _token = TestTokens.Create(subscribe: ["*"], publish: ["*"]);
    private BridgeTestServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var settings = TestTokens.RequireTokens();
        settings["Storage:EventsTable"] = TestNames.Table();
        settings["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:02";
        _server = await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, settings, _logs);
        _client = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _client.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Every_hostile_input_gets_a_4xx_or_its_documented_answer_and_leaves_the_server_healthy()
    {
        var corpus = new HostileInputs(Guid.NewGuid().ToString("N")[..8], _token).All().ToList();
        var failures = new List<string>();

        foreach (var input in corpus)
        {
            if (await CheckAnswerAsync(input) is { } failure)
            {
                failures.Add($"{input}: {failure}");
            }
        }

        foreach (var input in corpus.Where(input => input.Stream is not null))
        {
            if (await CheckStoredAsync(input) is { } failure)
            {
                failures.Add($"{input}: {failure}");
            }
        }

        output.WriteLine($"{corpus.Count} hostile inputs in {corpus.Select(input => input.Category).Distinct().Count()} categories; {failures.Count} failed.");
        Assert.True(corpus.Count >= 200, $"The corpus holds {corpus.Count} inputs; it should hold at least 200.");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Headers_sent_a_byte_at_a_time_are_cut_off_by_the_header_timeout()
    {
        // Kestrel:Limits:RequestHeadersTimeout is 2 s here: the trickle below would take 400 s.
        var start = Encoding.ASCII.GetBytes("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        var trickle = Encoding.ASCII.GetBytes("X-Slow: " + new string('s', 400));

        var answer = await RawHttp.SendSlowlyAsync(_server.BaseAddress, start, trickle, TimeSpan.FromSeconds(1), Waits.Within(60));

        Assert.True(answer.Status is null or (int)HttpStatusCode.RequestTimeout, $"Expected the connection to be closed or a 408; got {answer}.");
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_publish_body_sent_a_byte_at_a_time_is_cut_off_and_nothing_is_stored()
    {
        // Kestrel's minimum body data rate (240 bytes/s after a 5 s grace period) ends this long before its 1,000 s.
        var stream = TestNames.Stream("slow-body");
        var start = Encoding.ASCII.GetBytes($"POST /api/streams/{stream}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {_token}\r\nContent-Length: 1000\r\n\r\n");

        var answer = await RawHttp.SendSlowlyAsync(_server.BaseAddress, start, new byte[1000], TimeSpan.FromSeconds(1), Waits.Within(60));

        Assert.True(answer.Status is null or (int)HttpStatusCode.RequestTimeout, $"Expected the connection to be closed or a 408; got {answer}.");
        Assert.Equal(0, await LastIdAsync(stream));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task Many_idle_connections_that_never_send_a_request_do_not_block_others()
    {
        var idle = new List<System.Net.Sockets.TcpClient>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var socket = new System.Net.Sockets.TcpClient();
                await socket.ConnectAsync(IPAddress.Loopback, _server.BaseAddress.Port);
                idle.Add(socket);
            }

            await AssertHealthyAsync();
        }
        finally
        {
            idle.ForEach(socket => socket.Dispose());
        }
    }

    private async Task<string?> CheckAnswerAsync(HostileInput input)
    {
        RawResponse answer;
        try
        {
            answer = await RawHttp.SendAsync(_server.BaseAddress, input.Request, Waits.Within(20), input.BodyMustContain);
        }
        catch (OperationCanceledException)
        {
            return "no complete answer within 20 s";
        }

        if (answer.Status is not { } status || !input.Expected.Contains(status))
        {
            return $"expected {string.Join(" or ", input.Expected)}, got {answer}";
        }

        if (input.BodyMustContain is { } text && !answer.BodyText.Contains(text, StringComparison.Ordinal))
        {
            return $"the body lacks '{text}': {answer.BodyText}";
        }

        // Bridge's own refusals are problem details; Kestrel's protocol refusals come before the app and have no body.
        return status >= 400 && answer.Body.Length > 0 && !answer.Head.Contains("Content-Type: application/problem+json", StringComparison.OrdinalIgnoreCase)
            ? $"a {status} without problem details: {answer.Head}"
            : null;
    }

    private async Task<string?> CheckStoredAsync(HostileInput input)
    {
        var expected = input.Stored ?? [];
        var lastId = await LastIdAsync(input.Stream!);
        if (lastId != expected.Length)
        {
            return $"stream {input.Stream} holds {lastId} events; expected {expected.Length}";
        }

        if (expected.Length == 0)
        {
            return null;
        }

        await using var connection = await SseConnection.OpenAsync(_client, $"/api/streams/{input.Stream}/events?lastEventId=0", cancellationToken: Waits.Within(20));
        var events = await connection.ReadEventsAsync(expected.Length, Waits.Within(20));
        var readBack = events.Select(e => e.Data).ToArray();
        return readBack.SequenceEqual(expected) ? null : $"read back [{Escape(readBack)}]; expected [{Escape(expected)}]";
    }

    private async Task<long> LastIdAsync(string stream) =>
        (await _server.Services.GetRequiredService<IEventLog>().GetHeadAsync(StreamName.Parse(stream), Waits.Within(20))).LastId;

    private async Task AssertHealthyAsync()
    {
        using var health = await _client.GetAsync("/api/health", Waits.Within(20));
        var stream = TestNames.Stream("after-corpus");
        await using var connection = await SseConnection.OpenAsync(_client, $"/api/streams/{stream}/events", cancellationToken: Waits.Within(20));
        using var published = await _client.PostAsync($"/api/streams/{stream}/events", new StringContent("still fine"), Waits.Within(20));
        var received = await connection.ReadEventAsync(Waits.Within(20));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("still fine", received?.Data);
        Assert.DoesNotContain(_logs.Messages, message => message.Contains(" Error:", StringComparison.Ordinal) || message.Contains(" Critical:", StringComparison.Ordinal));
    }

    private static string Escape(IEnumerable<string> data) =>
        string.Join(", ", data.Select(d => (d.Length > 60 ? d[..60] + "…" : d).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal)));
}
