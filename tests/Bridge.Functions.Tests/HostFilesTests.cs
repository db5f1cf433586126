using System.Text.Json;
using Bridge.DevKit;

namespace Bridge.Functions.Tests;

/// <summary>The files that configure the app: host.json and local.settings.json, shared with the standalone server.</summary>
public class HostFilesTests
{
    [Fact]
    public void Local_settings_define_every_setting_the_app_needs_to_start()
    {
        var values = FunctionsServicesTests.LocalSettings();

        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]);
        Assert.Equal("dotnet-isolated", values["FUNCTIONS_WORKER_RUNTIME"]);
        foreach (var name in new[] { "ServiceBusTopic", "ServiceBusSubscription", "ServiceBusConnection", "Sse:MaxDurationSeconds" })
        {
            Assert.True(values.ContainsKey(name), $"local.settings.json lacks {name}.");
        }
    }

    [Fact]
    public void Host_json_keeps_the_api_prefix_settles_by_hand_and_outlives_an_sse_response()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "host.json")));
        var extensions = host.RootElement.GetProperty("extensions");

        Assert.Equal(Bridge.Http.BridgeRoutes.Prefix, extensions.GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.False(extensions.GetProperty("serviceBus").GetProperty("autoCompleteMessages").GetBoolean());
        Assert.True(TimeSpan.Parse(host.RootElement.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > TimeSpan.FromSeconds(230));
    }
}
