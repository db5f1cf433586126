using System.Reflection;
using System.Text.Json;
using Bridge.DevKit;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bridge.Functions.Tests;

/// <summary>
/// The app's service container, built from the same registrations as Program (<see cref="FunctionsServices"/>) and
/// the committed local.settings.json: every function class can be created, so no registration is missing.
/// </summary>
public class FunctionsServicesTests
{
    [Fact]
    public async Task Every_function_class_resolves_from_the_apps_registrations_and_settings()
    {
        await using var provider = Services(LocalSettings());
        provider.GetRequiredService<IStartupValidator>().Validate();
        var functionClasses = typeof(FunctionsServices).Assembly.GetTypes()
            .Where(type => type.GetMethods().Any(method => method.GetCustomAttribute<FunctionAttribute>() is not null))
            .ToList();

        Assert.NotEmpty(functionClasses);
        Assert.All(functionClasses, type => Assert.NotNull(ActivatorUtilities.CreateInstance(provider, type)));
    }

    [Fact]
    public async Task A_response_lifetime_past_the_front_ends_230_seconds_stops_the_app()
    {
        var settings = LocalSettings();
        settings["Sse:MaxDurationSeconds"] = "230";
        await using var provider = Services(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("230", failure.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddBridgeFunctions(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>The <c>Values</c> of local.settings.json, as the Functions host turns them into configuration.</summary>
    internal static Dictionary<string, string?> LocalSettings()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "local.settings.json")));
        return file.RootElement.GetProperty("Values").EnumerateObject()
            .ToDictionary(setting => setting.Name.Replace("__", ":", StringComparison.Ordinal), setting => setting.Value.GetString());
    }
}
