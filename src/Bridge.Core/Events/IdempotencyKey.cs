using System.Diagnostics.CodeAnalysis;

namespace Bridge.Events;

/// <summary>
/// The key that makes an append idempotent: a broker message's id, or a publisher's <c>Idempotency-Key</c>.
/// Appending an event whose key the stream has already seen stores nothing and returns the original id.
/// </summary>
/// <remarks>1 to <see cref="MaxLength"/> characters, none of them control characters.</remarks>
public readonly record struct IdempotencyKey
{
    /// <summary>The longest key accepted; broker message ids are shorter.</summary>
    public const int MaxLength = 200;

    private IdempotencyKey(string value) => Value = value;

    /// <summary>The validated key.</summary>
    public string Value { get; }

    /// <summary>Validates <paramref name="text"/> as an idempotency key.</summary>
    public static bool TryParse(string? text, out IdempotencyKey key, [NotNullWhen(false)] out string? error)
    {
        key = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "An idempotency key may not be empty.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"An idempotency key has at most {MaxLength} characters; this one has {text.Length}.";
            return false;
        }

        if (text.AsSpan().ContainsAnyInRange('\0', '\x1f') || text.Contains('\x7f', StringComparison.Ordinal))
        {
            error = "An idempotency key may not contain control characters.";
            return false;
        }

        key = new IdempotencyKey(text);
        error = null;
        return true;
    }

    /// <summary>Validates <paramref name="text"/> as an idempotency key, throwing when it is invalid.</summary>
    /// <exception cref="ArgumentException">The key breaks the rules; the message says which.</exception>
    public static IdempotencyKey Parse(string text) =>
        TryParse(text, out var key, out var error) ? key : throw new ArgumentException(error, nameof(text));

    /// <inheritdoc />
    public override string ToString() => Value;
}
