using System.Net;
using Bridge.Testing;

namespace Bridge.Server.Tests.Security;

/// <summary>The CORS answers a browser acts on (Chromium itself is driven in the browser tests).</summary>
public class CorsTests
{
    private const string App = "https://app.example";

    [Theory]
    [InlineData("POST", "authorization,content-type,idempotency-key")]
    [InlineData("GET", "authorization,last-event-id")]
    public async Task A_listed_origin_gets_its_preflight_answered_with_credentials(string method, string headers)
    {
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync(("Cors:AllowedOrigins", $"https://other.example, {App}"));

        using var response = await PreflightAsync(server, App, method, headers);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(App, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Contains(method, response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        var allowedHeaders = response.Headers.GetValues("Access-Control-Allow-Headers").Single().ToLowerInvariant().Split(',');
        Assert.Subset(allowedHeaders.ToHashSet(), headers.Split(',').ToHashSet());
    }

    [Fact]
    public async Task An_origin_not_listed_gets_no_cors_headers()
    {
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync(("Cors:AllowedOrigins", App));

        using var preflight = await PreflightAsync(server, "https://evil.example", "POST", "authorization");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        request.Headers.Add("Origin", "https://evil.example");
        using var simple = await server.Client.SendAsync(request);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(simple.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Any_origin_is_allowed_only_without_credentials()
    {
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync(("Cors:AllowedOrigins", "*"), ("Cors:AllowCredentials", "false"));

        using var response = await PreflightAsync(server, "https://anyone.example", "POST", "authorization");

        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }


    private static async Task<HttpResponseMessage> PreflightAsync(BridgeTestServer server, string origin, string method, string headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/streams/orders/events");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return await server.Client.SendAsync(request);
    }
}
