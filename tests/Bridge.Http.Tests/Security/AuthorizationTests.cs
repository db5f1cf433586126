using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Bridge.Http.Tests.Security;

/// <summary>Subscriber and publisher tokens over real HTTP, with every way a token can be wrong.</summary>
public class AuthorizationTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient Client => _server.Client;

    public async Task InitializeAsync() =>
        _server = await ApiTestServer.StartAsync(TestTokens.RequireTokens(publicStreams: "public-*"));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Without_a_token_subscribing_and_publishing_get_401_with_a_bearer_challenge()
    {
        var stream = TestNames.Stream("closed");
        using var subscribe = await Client.GetAsync($"/api/streams/{stream}/events");
        using var publish = await Api.PublishAsync(Client, stream, "x");

        foreach (var response in new[] { subscribe, publish })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("urn:bridge:problem:missing-token", (await Api.ProblemAsync(response)).GetProperty("type").GetString());
            Assert.Equal("Bearer realm=\"bridge\"", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task A_public_stream_is_readable_without_a_token_but_not_publishable()
    {
        var stream = TestNames.Stream("public");
        await using var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events");
        using var publish = await Api.PublishAsync(Client, stream, "x");
        using var publishWithToken = await PublishAsync(stream, TestTokens.Create(publish: [stream]));

        Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, publish.StatusCode);
        Assert.Equal(HttpStatusCode.Created, publishWithToken.StatusCode);
        Assert.Equal(1, (await connection.ReadEventAsync(Waits.Within(10)))!.Id);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("cookie")]
    [InlineData("query")]
    public async Task A_subscriber_token_is_accepted_from_the_header_the_cookie_or_the_query(string where)
    {
        var stream = TestNames.Stream("where");
        var token = TestTokens.Create(subscribe: [stream], publish: [stream]);
        using var published = await PublishAsync(stream, token);

        using var response = await SubscribeAsync(stream, header: where == "header" ? token : null, cookie: where == "cookie" ? token : null, query: where == "query" ? token : null);

        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("header", "cookie", HttpStatusCode.Unauthorized)]
    [InlineData("cookie", "query", HttpStatusCode.Unauthorized)]
    [InlineData("none", "cookie", HttpStatusCode.OK)]
    public async Task The_header_wins_over_the_cookie_and_the_cookie_over_the_query(string invalidIn, string validIn, HttpStatusCode expected)
    {
        var stream = TestNames.Stream("precedence");
        var valid = TestTokens.Create(subscribe: [stream]);
        const string invalid = "not.a.token";
        string? In(string place) => place == validIn ? valid : place == invalidIn ? invalid : null;

        using var response = await SubscribeAsync(stream, header: In("header"), cookie: In("cookie"), query: In("query"));

        Assert.Equal(expected, response.StatusCode);
    }

    public static TheoryData<string, string, string> BadTokens()
    {
        const string stream = "guarded";
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return new()
        {
            { "alg none", TestTokens.WithoutSignature([stream]), "signature" },
            { "wrong key", TestTokens.Create(subscribe: [stream], key: otherKey), "signature" },
            { "wrong audience", TestTokens.Create(subscribe: [stream], audience: "someone-else"), "audience" },
            { "wrong issuer", TestTokens.Create(subscribe: [stream], issuer: "https://evil.example"), "issuer" },
            { "expired", TestTokens.Create(subscribe: [stream], lifetime: TimeSpan.FromSeconds(-30)), "expired" },
            { "not yet valid", TestTokens.Create(subscribe: [stream], notBefore: DateTimeOffset.UtcNow.AddMinutes(5)), "not valid yet" },
            { "no expiry", TestTokens.Create(subscribe: [stream], expires: false), "expiry" },
            { "not a jwt", "hello", "well-formed" },
            { "three garbage parts", "a.b.c", "well-formed" },
            { "bad claim", TestTokens.Create(subscribe: ["not a stream!"]), "bridge.subscribe" },
        };
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_gets_401_saying_what_is_wrong(string _, string token, string reason)
    {
        using var response = await SubscribeAsync("guarded", header: token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await Api.ProblemAsync(response);
        Assert.Equal("urn:bridge:problem:invalid-token", problem.GetProperty("type").GetString());
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("Bearer realm=\"bridge\", error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "orders.*" }, "orders.eu", HttpStatusCode.OK)]
    [InlineData(new[] { "orders.*" }, "orders", HttpStatusCode.Forbidden)]
    [InlineData(new[] { "orders.*" }, "ordersx", HttpStatusCode.Forbidden)]
    [InlineData(new[] { "orders" }, "orders", HttpStatusCode.OK)]
    [InlineData(new[] { "orders" }, "orders.eu", HttpStatusCode.Forbidden)]
    [InlineData(new[] { "*" }, "anything-at-all", HttpStatusCode.OK)]
    [InlineData(new string[0], "orders", HttpStatusCode.Forbidden)]
    public async Task A_token_opens_exactly_the_streams_its_claims_name(string[] claims, string stream, HttpStatusCode expected)
    {
        using var response = await SubscribeAsync(stream, header: TestTokens.Create(subscribe: claims));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("urn:bridge:problem:stream-not-allowed", (await Api.ProblemAsync(response)).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Subscribe_and_publish_rights_are_separate()
    {
        var stream = TestNames.Stream("rights");
        using var publishWithSubscribeToken = await PublishAsync(stream, TestTokens.Create(subscribe: [stream]));
        using var subscribeWithPublishToken = await SubscribeAsync(stream, header: TestTokens.Create(publish: [stream]));

        Assert.Equal(HttpStatusCode.Forbidden, publishWithSubscribeToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, subscribeWithPublishToken.StatusCode);
    }

    [Fact]
    public async Task A_token_must_cover_every_stream_of_a_multi_stream_subscription_and_the_403_names_the_one_it_lacks()
    {
        var (allowed, other, open) = (TestNames.Stream("allowed"), TestNames.Stream("not-allowed"), TestNames.Stream("public"));
        var token = TestTokens.Create(subscribe: [allowed]);
        using var refused = await Client.GetAsync($"/api/events?stream={allowed}&stream={other}&access_token={token}");
        await using var admitted = await SseConnection.OpenAsync(Client, $"/api/events?stream={allowed}&stream={open}&access_token={token}");
        using var anonymous = await Client.GetAsync($"/api/events?stream={open}&stream={allowed}");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var problem = await Api.ProblemAsync(refused);
        Assert.Equal("urn:bridge:problem:stream-not-allowed", problem.GetProperty("type").GetString());
        Assert.Contains($"'{other}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, admitted.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_publisher_token_is_taken_from_the_header_only()
    {
        var stream = TestNames.Stream("header-only");
        var token = TestTokens.Create(publish: [stream]);
        using var byCookie = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events") { Content = new StringContent("x") };
        byCookie.Headers.Add("Cookie", $"bridge_token={token}");
        using var cookieResponse = await Client.SendAsync(byCookie);
        using var queryResponse = await Client.PostAsync($"/api/streams/{stream}/events?access_token={token}", new StringContent("x"));

        Assert.Equal(HttpStatusCode.Unauthorized, cookieResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, queryResponse.StatusCode);
    }

    [Fact]
    public async Task A_stream_closes_when_its_token_expires_and_the_same_token_cannot_reopen_it()
    {
        var stream = TestNames.Stream("expiring");
        var shortLived = TestTokens.Create(subscribe: [stream], lifetime: TimeSpan.FromSeconds(3));

        // The response's maximum lifetime is 120 s; it must end with the token instead, well inside this bound.
        await using (var connection = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events?access_token={shortLived}"))
        {
            Assert.Equal(HttpStatusCode.OK, connection.Response.StatusCode);
            await connection.ReadToEndAsync(Waits.Within(30));
            Assert.True(connection.Ended);
        }

        using var again = await SubscribeAsync(stream, query: shortLived);
        using var refreshed = await SubscribeAsync(stream, query: TestTokens.Create(subscribe: [stream]));
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Contains("expired", (await Api.ProblemAsync(again)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
    }

    [Fact]
    public async Task The_session_endpoint_stores_the_token_in_a_locked_down_cookie_and_clears_it()
    {
        var stream = TestNames.Stream("cookie");
        var token = TestTokens.Create(subscribe: [stream]);
        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/auth/session");
        create.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var created = await Client.SendAsync(create);
        using var deleted = await Client.DeleteAsync("/api/auth/session");
        using var refusedRequest = new HttpRequestMessage(HttpMethod.Post, "/api/auth/session");
        refusedRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not.a.token");
        using var refused = await Client.SendAsync(refusedRequest);

        Assert.Equal(HttpStatusCode.NoContent, created.StatusCode);
        var cookie = created.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith($"bridge_token={token};", cookie, StringComparison.Ordinal);
        foreach (var attribute in new[] { "httponly", "secure", "samesite=lax", "path=/api", "expires=" })
        {
            Assert.Contains(attribute, cookie, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Contains("expires=Thu, 01 Jan 1970", deleted.Headers.GetValues("Set-Cookie").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task No_token_ever_reaches_the_logs()
    {
        var logs = new CapturingLoggerProvider();
        var settings = TestTokens.RequireTokens();
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace"; // its request lines hold full URLs
        await using var server = await ApiTestServer.StartAsync(settings, logs);
        var stream = TestNames.Stream("secret");
        var tokens = new[]
        {
            TestTokens.Create(subscribe: [stream], publish: [stream]),
            TestTokens.Create(subscribe: ["other"]),
            TestTokens.Create(subscribe: [stream], lifetime: TimeSpan.FromSeconds(-10)),
        };

        foreach (var token in tokens)
        {
            using var query = await server.Client.GetAsync($"/api/streams/{stream}/events?access_token={token}", HttpCompletionOption.ResponseHeadersRead);
            using var header = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events") { Content = new StringContent("x") };
            header.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var _ = await server.Client.SendAsync(header);
        }

        Assert.Contains(logs.Messages, message => message.Contains($"Refused Subscribe on stream {stream}", StringComparison.Ordinal));
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(logs.Messages, message => message.Contains(token.Split('.')[2], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Keys_from_a_jwks_url_are_used_and_a_rotation_is_picked_up()
    {
        using var first = RSA.Create(2048);
        using var second = RSA.Create(2048);
        var firstKey = new RsaSecurityKey(first) { KeyId = "first" };
        var secondKey = new RsaSecurityKey(second) { KeyId = "second" };
        var published = new[] { firstKey };
        var jwks = WebApplication.CreateBuilder();
        jwks.Logging.ClearProviders();
        jwks.WebHost.UseUrls("http://127.0.0.1:0");
        await using var issuer = jwks.Build();
        issuer.MapGet("/jwks", () => Results.Text(JwksJson(published), "application/json"));
        await issuer.StartAsync();
        var settings = TestTokens.RequireTokens();
        settings["Auth:SigningKey"] = null;
        settings["Auth:JwksUrl"] = issuer.Urls.Single() + "/jwks";
        settings["Auth:JwksMinRefreshSeconds"] = "0";
        await using var server = await ApiTestServer.StartAsync(settings);
        var stream = TestNames.Stream("jwks");
        string Signed(RsaSecurityKey key) => TestTokens.Create(subscribe: [stream], credentials: new SigningCredentials(key, SecurityAlgorithms.RsaSha256));

        using var before = await SubscribeAsync(stream, header: Signed(firstKey), client: server.Client);
        published = [secondKey];
        using var rotated = await SubscribeAsync(stream, header: Signed(secondKey), client: server.Client);
        using var retired = await SubscribeAsync(stream, header: Signed(firstKey), client: server.Client);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, retired.StatusCode);
    }

    [Fact]
    public async Task During_a_signing_key_rotation_tokens_signed_with_the_new_or_the_previous_key_are_accepted()
    {
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var unknownKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var settings = TestTokens.RequireTokens();
        settings["Auth:PreviousSigningKey"] = TestTokens.Key;
        settings["Auth:SigningKey"] = newKey;
        await using var server = await ApiTestServer.StartAsync(settings);
        var stream = TestNames.Stream("rotation");

        using var withNew = await SubscribeAsync(stream, header: TestTokens.Create(subscribe: [stream], key: newKey), client: server.Client);
        using var withPrevious = await SubscribeAsync(stream, header: TestTokens.Create(subscribe: [stream]), client: server.Client);
        using var withUnknown = await SubscribeAsync(stream, header: TestTokens.Create(subscribe: [stream], key: unknownKey), client: server.Client);

        Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withPrevious.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withUnknown.StatusCode);
    }

    private static string JwksJson(IEnumerable<RsaSecurityKey> keys) => JsonSerializer.Serialize(new
    {
        keys = keys.Select(key =>
        {
            var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
            return new { kty = "RSA", kid = key.KeyId, use = "sig", alg = "RS256", n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent) };
        }),
    });

    private async Task<HttpResponseMessage> SubscribeAsync(string stream, string? header = null, string? cookie = null, string? query = null, HttpClient? client = null)
    {
        var url = $"/api/streams/{stream}/events" + (query is null ? "" : $"?access_token={query}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {header}");
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", $"bridge_token={cookie}");
        }

        // Only the status matters here: read the headers and let go, which ends a stream at once.
        return await (client ?? Client).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Waits.Within(10));
    }

    private async Task<HttpResponseMessage> PublishAsync(string stream, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events") { Content = new StringContent("x") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await Client.SendAsync(request);
    }
}
