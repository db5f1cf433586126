using System.Reflection;
using System.Text.RegularExpressions;
using Bridge.DevKit;

namespace Bridge.Server.Tests;

/// <summary>
/// docs/configuration.md documents every setting once: every setting an options class binds is listed there, and
/// every setting listed in an options section is one the code binds.
/// </summary>
public partial class ConfigurationDocsTests
{
    /// <summary>Every assembly of the server that binds settings.</summary>
    private static readonly Assembly[] Assemblies =
    [
        typeof(Bridge.Events.EventRulesOptions).Assembly,
        typeof(Bridge.Http.Admission.LimitsOptions).Assembly,
        typeof(Bridge.TableStorage.TableEventLogOptions).Assembly,
        typeof(Bridge.ServiceBus.ServiceBusIngestOptions).Assembly,
        typeof(BridgeServer).Assembly,
    ];

    [Fact]
    public void The_configuration_page_lists_exactly_the_settings_the_options_classes_bind()
    {
        var bound = BoundSettings();
        var documented = DocumentedSettings();
        var sections = bound.Select(setting => setting.Split("__")[0]).ToHashSet();

        Assert.Empty(bound.Except(documented));
        Assert.Empty(documented.Where(setting => sections.Contains(setting.Split("__")[0])).Except(bound));
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    /// <summary><c>Section__Property</c> for every settable property of every class with a <c>SectionName</c>.</summary>
    private static List<string> BoundSettings() =>
    [
        .. Assemblies
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(property => property.SetMethod?.IsPublic == true)
                .Select(property => $"{type.GetField("SectionName")!.GetRawConstantValue()}__{property.Name}")),
    ];

    /// <summary>The setting in the first column of every table row of docs/configuration.md.</summary>
    private static List<string> DocumentedSettings() =>
    [
        .. File.ReadLines(Path.Combine(RepositoryPaths.Root, "docs", "configuration.md"))
            .Select(line => FirstColumnSetting().Match(line))
            .Where(match => match.Success)
            .Select(match => match.Groups[1].Value),
    ];

    [GeneratedRegex(@"^\| `([A-Za-z_]+__[A-Za-z_.]+)` \|")]
    private static partial Regex FirstColumnSetting();
}
