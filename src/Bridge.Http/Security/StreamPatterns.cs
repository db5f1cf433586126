using System.Diagnostics.CodeAnalysis;
using Bridge.Events;

namespace Bridge.Http.Security;

/// <summary>
/// A set of streams, named exactly or by prefix: <c>orders</c> is that one stream, <c>orders.*</c> every stream whose
/// name starts with <c>orders.</c>, and <c>*</c> every stream.
/// </summary>
public sealed class StreamPatterns
{
    private readonly HashSet<string> _exact;
    private readonly string[] _prefixes;

    private StreamPatterns(HashSet<string> exact, string[] prefixes)
    {
        _exact = exact;
        _prefixes = prefixes;
    }

    /// <summary>No stream at all.</summary>
    public static StreamPatterns None { get; } = new([], []);

    /// <summary>Parses a comma-separated list of patterns (for settings).</summary>
    public static bool TryParse(string? list, [NotNullWhen(true)] out StreamPatterns? patterns, [NotNullWhen(false)] out string? error) =>
        TryParse(list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [], out patterns, out error);

    /// <summary>Parses patterns one by one (from a token's claims). Each is a valid stream name, optionally followed by <c>*</c>.</summary>
    public static bool TryParse(IEnumerable<string> items, [NotNullWhen(true)] out StreamPatterns? patterns, [NotNullWhen(false)] out string? error)
    {
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        foreach (var item in items)
        {
            var prefix = item.EndsWith('*') ? item[..^1] : null;
            if (prefix is not null && (prefix.Length == 0 || StreamName.TryParse(prefix, out _, out _)))
            {
                prefixes.Add(prefix);
            }
            else if (prefix is null && StreamName.TryParse(item, out _, out _))
            {
                exact.Add(item);
            }
            else
            {
                patterns = null;
                error = $"'{(item.Length > 64 ? item[..64] + "…" : item)}' is neither a stream name nor a name prefix followed by '*'.";
                return false;
            }
        }

        patterns = new StreamPatterns(exact, [.. prefixes]);
        error = null;
        return true;
    }

    public bool Matches(StreamName stream) =>
        _exact.Contains(stream.Value) || Array.Exists(_prefixes, prefix => stream.Value.StartsWith(prefix, StringComparison.Ordinal));
}
