namespace Bridge.Server.BrowserTests;

/// <summary>Publishes events over HTTP, as a producer would.</summary>
internal static class Publisher
{
    public static async Task PublishAsync(HttpClient client, string stream, string data, string? type = null)
    {
        var url = $"/api/streams/{stream}/events" + (type is null ? "" : $"?type={type}");
        using var response = await client.PostAsync(url, new StringContent(data));
        response.EnsureSuccessStatusCode();
    }
}
