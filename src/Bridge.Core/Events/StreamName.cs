using System.Diagnostics.CodeAnalysis;

namespace Bridge.Events;

/// <summary>
/// The name of an event stream: the unit of ordering, replay and subscription. Publishers choose it.
/// </summary>
/// <remarks>
/// A name has 1 to <see cref="MaxLength"/> characters, all from <see cref="NameRules.AllowedCharactersDescription"/>.
/// Names are case-sensitive. The rules make every valid name safe as a storage key, in a URL path and in a query
/// filter, without escaping.
/// </remarks>
public readonly record struct StreamName
{
    /// <summary>The longest name accepted: 128 keeps URLs and logs readable.</summary>
    public const int MaxLength = 128;

    private StreamName(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Validates <paramref name="text"/> as a stream name.</summary>
    /// <param name="text">The candidate name.</param>
    /// <param name="name">The name, when valid.</param>
    /// <param name="error">Why the name is invalid, phrased for the caller.</param>
    public static bool TryParse(string? text, out StreamName name, [NotNullWhen(false)] out string? error)
    {
        name = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "A stream name is required.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"A stream name has at most {MaxLength} characters; this one has {text.Length}.";
            return false;
        }

        if (!NameRules.HasOnlyNameCharacters(text))
        {
            error = $"A stream name may contain only {NameRules.AllowedCharactersDescription}.";
            return false;
        }

        name = new StreamName(text);
        error = null;
        return true;
    }

    /// <summary>Validates <paramref name="text"/> as a stream name, throwing when it is invalid.</summary>
    /// <exception cref="ArgumentException">The name breaks the rules; the message says which.</exception>
    public static StreamName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name : throw new ArgumentException(error, nameof(text));

    /// <inheritdoc />
    public override string ToString() => Value;
}
