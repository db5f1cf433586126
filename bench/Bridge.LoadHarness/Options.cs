using System.Globalization;

namespace Bridge.LoadHarness;

/// <summary>
/// Command-line options: <c>--name value</c> pairs, with defaults chosen by each scenario. Also compiled into
/// Bridge.StorageBench.
/// </summary>
internal sealed class Options(IReadOnlyDictionary<string, string> values)
{
    public static Options Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                name = arg[2..];
                values[name] = "true";
            }
            else if (name is not null)
            {
                values[name] = arg;
                name = null;
            }
        }

        return new Options(values);
    }

    public int Int(string name, int fallback) =>
        values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => values.ContainsKey(name);

    public string? Text(string name) => values.GetValueOrDefault(name);

    public string Required(string name) =>
        values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");

    /// <summary>A list of <c>A=B,C=D</c> pairs, such as the server settings of <c>--server-env</c>; empty when not given.</summary>
    public IEnumerable<KeyValuePair<string, string>> Pairs(string name) =>
        (Text(name) ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => KeyValuePair.Create(pair.Split('=')[0], pair.Split('=', 2)[1]));

    /// <summary>The options again, without <paramref name="except"/>, for passing on to a child process.</summary>
    public IEnumerable<string> Forward(params string[] except) =>
        values.Where(pair => !except.Contains(pair.Key, StringComparer.OrdinalIgnoreCase)).SelectMany(pair => new[] { "--" + pair.Key, pair.Value });
}
