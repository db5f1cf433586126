using Bridge.ServiceBus;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bridge.DevKit;

namespace Bridge.Functions.Tests;

/// <summary>
/// infra/ compiles and lints with the Bicep CLI without a warning, and the Function App it deploys gets every setting
/// the app needs, spelled as the code and docs/configuration.md spell it.
/// </summary>
public partial class InfraTemplateTests
{
    private static readonly string Infra = Path.Combine(RepositoryPaths.Root, "infra");

    private static readonly string Bicep = typeof(InfraTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "Bicep").Value!;

    public static TheoryData<string> BicepFiles() =>
        [.. Directory.EnumerateFiles(Infra, "*.bicep", SearchOption.AllDirectories).Select(file => Path.GetRelativePath(Infra, file))];

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Every_bicep_file_builds_and_lints_without_a_warning(string file)
    {
        var lint = await RunBicepAsync("lint", Path.Combine(Infra, file));
        var build = await RunBicepAsync("build", Path.Combine(Infra, file), "--stdout");

        Assert.True(lint.ExitCode == 0 && lint.Errors.Length == 0, $"bicep lint {file}:\n{lint.Errors}");
        Assert.True(build.ExitCode == 0 && build.Errors.Length == 0, $"bicep build {file}:\n{build.Errors}");
    }

    [Fact]
    public async Task The_function_app_gets_every_setting_it_needs_each_spelled_as_documented()
    {
        var build = await RunBicepAsync("build", Path.Combine(Infra, "main.bicep"), "--stdout");
        var settings = AppSettings(JsonDocument.Parse(build.Output).RootElement);
        var documented = DocumentedSettings();

        Assert.Empty(settings.Except(documented));
        Assert.Subset(settings.ToHashSet(), new HashSet<string>
        {
            "AzureWebJobsStorage__accountName",
            "AzureWebJobsStorage__credential",
            "AzureWebJobsStorage__clientId",
            ServiceBusSettings.Connection + "__fullyQualifiedNamespace",
            ServiceBusSettings.Topic,
            ServiceBusSettings.Subscription,
            FunctionsSettings.Disabled("Ingest"),
            FunctionsSettings.Disabled("IngestSessions"),
            "Auth__Mode",
            "Auth__JwksUrl",
            "Auth__SigningKey",
            "Sse__MaxDurationSeconds",
        });
        Assert.DoesNotContain(settings, setting => setting.Contains("Key=", StringComparison.Ordinal) || setting.EndsWith("ConnectionString", StringComparison.Ordinal));
    }

    [Fact]
    public void Azd_deploys_the_functions_project_to_the_site_the_template_tags()
    {
        var azure = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "azure.yaml"));
        var functions = File.ReadAllText(Path.Combine(Infra, "modules", "functions.bicep"));

        Assert.Contains("project: ./src/Bridge.Functions", azure, StringComparison.Ordinal);
        Assert.Contains("host: function", azure, StringComparison.Ordinal);
        Assert.Contains("'azd-service-name': 'functions'", functions, StringComparison.Ordinal);
    }

    /// <summary>The names of the app settings in the compiled template's <c>appSettings</c> variable.</summary>
    private static List<string> AppSettings(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("variables", out var variables) && variables.TryGetProperty("appSettings", out var appSettings))
            {
                return [.. appSettings.EnumerateArray().Select(setting => setting.GetProperty("name").GetString()!)];
            }

            return [.. element.EnumerateObject().SelectMany(property => AppSettings(property.Value))];
        }

        return element.ValueKind == JsonValueKind.Array ? [.. element.EnumerateArray().SelectMany(AppSettings)] : [];
    }

    /// <summary>The setting in the first column of every table row of docs/configuration.md.</summary>
    private static HashSet<string> DocumentedSettings() =>
    [
        .. File.ReadLines(Path.Combine(RepositoryPaths.Root, "docs", "configuration.md"))
            .Select(line => FirstColumnSetting().Match(line))
            .Where(match => match.Success)
            .Select(match => match.Groups[1].Value),
    ];

    private static async Task<(int ExitCode, string Output, string Errors)> RunBicepAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Bicep) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var bicep = Process.Start(start)!;
        var output = bicep.StandardOutput.ReadToEndAsync();
        var errors = bicep.StandardError.ReadToEndAsync();
        await bicep.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (bicep.ExitCode, await output, (await errors).Trim());
    }

    [GeneratedRegex(@"^\| `([A-Za-z_][A-Za-z_.]*(?:__[A-Za-z_.]+)?)` \|")]
    private static partial Regex FirstColumnSetting();
}
