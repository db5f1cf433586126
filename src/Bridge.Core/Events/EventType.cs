using System.Diagnostics.CodeAnalysis;

namespace Bridge.Events;

/// <summary>
/// The type of an event, sent as the SSE <c>event:</c> field. <see cref="Message"/> is the default, which the
/// wire format leaves out because browsers assume it.
/// </summary>
/// <remarks>
/// A type has 1 to <see cref="MaxLength"/> characters from <see cref="NameRules.AllowedCharactersDescription"/>, so it
/// can never inject a line into the stream. Types starting with <see cref="ReservedPrefix"/> (in any case) belong
/// to Bridge itself, such as <see cref="Gap"/>.
/// </remarks>
public readonly record struct EventType
{
    /// <summary>The longest type accepted.</summary>
    public const int MaxLength = 100;

    /// <summary>The prefix of the types Bridge writes itself.</summary>
    public const string ReservedPrefix = "bridge.";

    /// <summary>The default type. It is also <c>default(EventType)</c>.</summary>
    public static readonly EventType Message;

    /// <summary>The type of the event that signals a cursor that could not be honoured. See <c>README.md</c>.</summary>
    public static readonly EventType Gap = new("bridge.gap");

    /// <summary>
    /// Names the stream of the events that follow it, in a response that carries several streams (its data is the
    /// stream's name).
    /// </summary>
    public static readonly EventType StreamMarker = new("bridge.stream");

    private const string MessageValue = "message";

    // Null for "message", so that default(EventType) is the default type and equals Message.
    private readonly string? _value;

    private EventType(string value) => _value = value == MessageValue ? null : value;

    /// <summary>The validated type.</summary>
    public string Value => _value ?? MessageValue;

    /// <summary>True for the default type, which the SSE wire format leaves out.</summary>
    public bool IsMessage => _value is null;

    /// <summary>
    /// Validates a type chosen by a publisher. Null or empty means <see cref="Message"/>; reserved types are refused.
    /// </summary>
    public static bool TryParse(string? text, out EventType type, [NotNullWhen(false)] out string? error)
    {
        type = Message;
        if (string.IsNullOrEmpty(text))
        {
            error = null;
            return true;
        }

        if (text.Length > MaxLength)
        {
            error = $"An event type has at most {MaxLength} characters; this one has {text.Length}.";
            return false;
        }

        if (!NameRules.HasOnlyNameCharacters(text))
        {
            error = $"An event type may contain only {NameRules.AllowedCharactersDescription}.";
            return false;
        }

        if (text.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            error = $"Event types starting with '{ReservedPrefix}' are reserved for Bridge.";
            return false;
        }

        type = new EventType(text);
        error = null;
        return true;
    }

    /// <summary>Validates a publisher's type, throwing when it is invalid.</summary>
    /// <exception cref="ArgumentException">The type breaks the rules; the message says which.</exception>
    public static EventType Parse(string? text) =>
        TryParse(text, out var type, out var error) ? type : throw new ArgumentException(error, nameof(text));

    /// <summary>
    /// Restores a type read back from an event log. It was validated when written, so it is not checked again, and
    /// Bridge's own reserved types are accepted.
    /// </summary>
    public static EventType FromStorage(string? text) =>
        string.IsNullOrEmpty(text) ? Message : new EventType(text);

    /// <inheritdoc />
    public override string ToString() => Value;
}
