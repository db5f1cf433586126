using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Bridge.Testing;

/// <summary>Small helpers for talking to the API as a client would.</summary>
public static class Api
{
    public static async Task<HttpResponseMessage> PublishAsync(HttpClient client, string stream, string data, string? type = null, string? key = null)
    {
        var url = $"/api/streams/{stream}/events" + (type is null ? "" : $"?type={Uri.EscapeDataString(type)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(data, Encoding.UTF8, "text/plain"),
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await client.SendAsync(request);
    }

    public static async Task<long> PublishIdAsync(HttpClient client, string stream, string data, string? type = null, string? key = null)
    {
        using var response = await PublishAsync(client, stream, data, type, key);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
