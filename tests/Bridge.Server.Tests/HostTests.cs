using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.Options;

namespace Bridge.Server.Tests;

/// <summary>What the standalone host adds around the API: problem details everywhere, storage health, its own settings.</summary>
public class HostTests
{
    [Fact]
    public async Task Unknown_routes_and_methods_get_problem_details_too()
    {
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync();

        using var unknown = await server.Client.GetAsync("/api/nothing-here");
        using var wrongMethod = await server.Client.DeleteAsync($"/api/streams/{TestNames.Stream("method")}/events");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        await Api.ProblemAsync(unknown);
        await Api.ProblemAsync(wrongMethod);
    }

    [Fact]
    public async Task Health_reports_storage_as_reachable()
    {
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync();

        using var response = await server.Client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal("open", health.GetProperty("auth").GetString());
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("Cors:AllowedOrigins=*", "credentials")]
    [InlineData("Cors:AllowedOrigins=*,https://app.example", "either *")]
    [InlineData("Cors:AllowedOrigins=https://app.example/path", "not an origin")]
    [InlineData("Server:MaxConnections=-1", "Server")]
    [InlineData("Storage:EventsTable=no_underscores", "Storage:EventsTable")]
    public async Task A_bad_host_setting_stops_the_server_at_start_with_a_message_that_names_it(string setting, string expected)
    {
        var pair = setting.Split('=', 2);

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            await BridgeTestServer.StartAsync((await AzuriteProcess.Shared).ConnectionString, new Dictionary<string, string?> { [pair[0]] = pair[1] }));

        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }
}
