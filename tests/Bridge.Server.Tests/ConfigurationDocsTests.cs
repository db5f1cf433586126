using System.Reflection;
using System.Text.RegularExpressions;
using Bridge.DevKit;

namespace Bridge.Server.Tests;

/// <summary>
/// docs/configuration.md documents every setting once: every setting an options class binds is listed there, and
/// every setting listed in an options section is one the code binds. The default it gives, and the value in
/// local.settings.json (which the standalone server reads too), are the code's default, so that a user who starts the
/// server as the README says gets the limits the documentation promises.
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

    [Fact]
    public void The_configuration_page_gives_the_codes_default_for_every_setting()
    {
        var documented = DocumentedDefaults();
        var wrong = CodeDefaults()
            .Where(setting => documented.TryGetValue(setting.Key, out var text) && text != setting.Value)
            .Select(setting => $"{setting.Key}: the code's default is '{setting.Value}', the page says '{documented[setting.Key]}'");

        Assert.Empty(wrong);
    }

    [Fact]
    public void Local_settings_hold_the_codes_defaults_except_where_the_page_says_they_differ()
    {
        using var file = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "local.settings.json")));
        var values = file.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(value => value.Name, value => value.Value.GetString() ?? string.Empty);
        var wrong = CodeDefaults()
            .Where(setting => values.TryGetValue(setting.Key, out var value) && value != setting.Value && !DeliberatelyDifferentLocally.Contains(setting.Key))
            .Select(setting => $"{setting.Key}: the code's default is '{setting.Value}', local.settings.json has '{values[setting.Key]}'");

        Assert.Empty(wrong);
    }

    /// <summary>Settings that local.settings.json sets apart from the default, each saying so on the configuration page.</summary>
    private static readonly string[] DeliberatelyDifferentLocally = ["Auth__Mode"];

    /// <summary><c>Section__Property</c> for every settable property of every class with a <c>SectionName</c>.</summary>
    private static List<string> BoundSettings() => [.. BoundProperties().Select(bound => bound.Setting)];

    private static IEnumerable<(string Setting, Type Type, PropertyInfo Property)> BoundProperties() =>
        Assemblies
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(property => property.SetMethod?.IsPublic == true)
                .Select(property => ($"{type.GetField("SectionName")!.GetRawConstantValue()}__{property.Name}", type, property)));

    /// <summary>
    /// The default of every bound setting with a plain value (numbers, flags, names), as configuration would spell it;
    /// an empty string for none.
    /// </summary>
    private static Dictionary<string, string> CodeDefaults() =>
        BoundProperties()
            .Where(bound => IsPlain(bound.Property.PropertyType))
            .ToDictionary(
                bound => bound.Setting,
                bound => bound.Property.GetValue(Activator.CreateInstance(bound.Type)) switch
                {
                    null => string.Empty,
                    bool flag => flag ? "true" : "false",
                    IFormattable value => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                    var value => value.ToString() ?? string.Empty,
                });

    private static bool IsPlain(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) is var plain && (plain.IsPrimitive || plain.IsEnum || plain == typeof(string) || plain == typeof(decimal));

    /// <summary>The default column's first value in backticks, for each setting; an empty string for "(none)".</summary>
    private static Dictionary<string, string> DocumentedDefaults() =>
        File.ReadLines(Path.Combine(RepositoryPaths.Root, "docs", "configuration.md"))
            .Select(line => SettingAndDefault().Match(line))
            .Where(match => match.Success)
            .ToDictionary(match => match.Groups[1].Value, match => FirstCode().Match(match.Groups[2].Value) is { Success: true } code ? code.Groups[1].Value : string.Empty);

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

    [GeneratedRegex(@"^\| `([A-Za-z_]+__[A-Za-z_.]+)` \| ([^|]*) \|")]
    private static partial Regex SettingAndDefault();

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex FirstCode();
}
