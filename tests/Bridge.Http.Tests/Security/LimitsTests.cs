using System.Net;
using System.Net.Http.Json;
using Bridge.Http;
using Bridge.Http.Admission;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Tests.Security;

/// <summary>Every limit, over real HTTP: what a client gets past it, and that the server recovers once below it.</summary>
public class LimitsTests
{
    [Fact]
    public async Task Past_the_process_limit_a_subscriber_gets_503_with_retry_after_and_a_closed_stream_frees_its_slot()
    {
        await using var server = await ApiTestServer.StartAsync(("Limits:MaxSubscribers", "2"), ("Limits:RetryAfterSeconds", "7"));
        var url = $"/api/streams/{TestNames.Stream("full")}/events";
        var first = await SseConnection.OpenAsync(server.Client, url);
        await using var second = await SseConnection.OpenAsync(server.Client, url);

        await using (var refused = await SseConnection.OpenAsync(server.Client, url))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), refused.Response.Headers.RetryAfter?.Delta);
            var problem = await Api.ProblemAsync(refused.Response);
            Assert.Equal("urn:bridge:problem:too-many-subscribers", problem.GetProperty("type").GetString());
            Assert.Contains("Limits:MaxSubscribers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await first.DisposeAsync();
        await WaitForOpenStreamsAsync(server, 1);
        await using var admitted = await SseConnection.OpenAsync(server.Client, url);
        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admitted.Response.StatusCode);
    }

    [Fact]
    public async Task Past_the_per_client_limit_that_client_gets_429_whatever_it_puts_in_forwarded_for_while_others_are_served()
    {
        await using var server = await ApiTestServer.StartAsync(("Limits:MaxSubscribersPerClient", "2"), ("Limits:TrustForwardedFor", "true"));
        var url = $"/api/streams/{TestNames.Stream("per-client")}/events";
        var connection = 0;
        Task<HttpResponseMessage> OpenAs(string address)
        {
            // The client writes whatever it likes first; the proxy appends the address and port it saw.
            connection++;
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{connection}, {address}:{50000 + connection}");
            return server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Waits.Within(10));
        }

        using var first = await OpenAs("203.0.113.1");
        using var second = await OpenAs("203.0.113.1");
        using var third = await OpenAs("203.0.113.1");
        using var someoneElse = await OpenAs("203.0.113.2");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK], new[] { first.StatusCode, second.StatusCode, third.StatusCode, someoneElse.StatusCode });
        var problem = await Api.ProblemAsync(third);
        Assert.Equal("urn:bridge:problem:too-many-subscribers-per-client", problem.GetProperty("type").GetString());
        Assert.Contains("Limits:MaxSubscribersPerClient", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(third.Headers.RetryAfter);
    }

    [Fact]
    public async Task Without_trust_in_forwarded_for_a_client_cannot_escape_its_limit_by_claiming_other_addresses()
    {
        await using var server = await ApiTestServer.StartAsync(("Limits:MaxSubscribersPerClient", "1"));
        var url = $"/api/streams/{TestNames.Stream("spoof")}/events";
        using var first = await server.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, Waits.Within(10));
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, url);
        spoofed.Headers.Add("X-Forwarded-For", "198.51.100.9");
        using var second = await server.Client.SendAsync(spoofed, HttpCompletionOption.ResponseHeadersRead, Waits.Within(10));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }

    [Fact]
    public async Task A_publisher_past_its_rate_gets_429_and_nothing_is_stored_while_other_publishers_go_on()
    {
        var settings = TestTokens.RequireTokens();
        settings["Limits:PublishRequestsPerSecond"] = "1";
        settings["Limits:PublishBurst"] = "3";
        await using var server = await ApiTestServer.StartAsync(settings);
        var stream = TestNames.Stream("rate");
        var busy = TestTokens.Create(publish: [stream], subject: "busy");
        var calm = TestTokens.Create(publish: [stream], subject: "calm");

        // The bucket holds 3 and refills 1 a second, so 3 quick requests pass and one of the next few must not.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var attempt = 0; attempt < 20 && refused is null; attempt++)
        {
            var response = await PublishAsync(server, stream, busy);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            var problem = await Api.ProblemAsync(refused);
            Assert.Equal("urn:bridge:problem:publish-rate-exceeded", problem.GetProperty("type").GetString());
            Assert.Contains("Limits:PublishRequestsPerSecond", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.All(statuses.Take(3), status => Assert.Equal(HttpStatusCode.Created, status));
        using var other = await PublishAsync(server, stream, calm);
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        var stored = (await server.Services.GetRequiredService<Bridge.Events.IEventLog>().GetHeadAsync(Bridge.Events.StreamName.Parse(stream), Waits.Within(10))).LastId;
        Assert.Equal(statuses.Count(status => status == HttpStatusCode.Created) + 1, stored);
    }

    [Fact]
    public async Task Stream_names_and_types_past_the_configured_lengths_get_400()
    {
        await using var server = await ApiTestServer.StartAsync(("Limits:MaxStreamNameLength", "12"), ("Limits:MaxEventTypeLength", "5"));
        var stream = "abcdefghijkl";

        using var longName = await server.Client.GetAsync($"/api/streams/{stream}x/events", Waits.Within(10));
        using var longType = await Api.PublishAsync(server.Client, stream, "x", type: "sixsix");
        using var longTypeInBatch = await server.Client.PostAsJsonAsync($"/api/streams/{stream}/events/batch", new[] { new { type = "sixsix", data = "x" } });
        using var fits = await Api.PublishAsync(server.Client, stream, "x", type: "fiver");

        Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        Assert.Contains("Limits:MaxStreamNameLength", (await Api.ProblemAsync(longName)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, longType.StatusCode);
        Assert.Contains("Limits:MaxEventTypeLength", (await Api.ProblemAsync(longType)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, longTypeInBatch.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    public static TheoryData<string, string> BadSettings() => new()
    {
        { "Auth:Mode=Jwt", "Auth:SigningKey" },
        { "Auth:Mode=Jwt;Auth:SigningKey=c2hvcnQ=", "32 bytes" },
        { "Auth:Mode=Jwt;Auth:JwksUrl=http://keys.example/jwks", "https" },
        { "Auth:PublicStreams=bad name!", "Auth:PublicStreams" },
        { "Limits:MaxSubscribers=0", "MaxSubscribers" },
        { "Limits:MaxStreamNameLength=500", "MaxStreamNameLength" },
        { "Limits:PublishBurst=-1", "PublishBurst" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_server_at_start_with_a_message_that_names_it(string settings, string expected)
    {
        var pairs = settings.Split(';').Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => (string?)pair[1]);

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            await ApiTestServer.StartAsync(pairs));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PublishAsync(ApiTestServer server, string stream, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events") { Content = new StringContent("x") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await server.Client.SendAsync(request);
    }

    private static async Task WaitForOpenStreamsAsync(ApiTestServer server, int count)
    {
        var admission = server.Services.GetRequiredService<SubscriberAdmission>();
        var deadline = Waits.Within(10);
        while (admission.Open > count)
        {
            await Task.Delay(10, deadline);
        }
    }
}
