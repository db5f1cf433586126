using System.Globalization;

namespace Bridge.Subscribers;

/// <summary>
/// Where a subscriber asks to resume: the <c>Last-Event-ID</c> header, else the <c>lastEventId</c> query parameter.
/// </summary>
public readonly record struct StreamCursor
{
    /// <summary>The query parameter that carries a cursor when a header cannot be sent.</summary>
    public const string QueryParameter = "lastEventId";

    /// <summary>The longest raw cursor echoed back in a gap notice.</summary>
    private const int MaxEchoLength = 128;

    private StreamCursor(long? position, string? malformed)
    {
        Position = position;
        Malformed = malformed;
    }

    /// <summary>No cursor: only events committed from now on are sent.</summary>
    public static StreamCursor None => default;

    /// <summary>The last id the client holds, when the cursor is a valid id.</summary>
    public long? Position { get; }

    /// <summary>The cursor as received (shortened), when it is not a valid id.</summary>
    public string? Malformed { get; }

    /// <summary>True when no cursor was given.</summary>
    public bool IsNone => Position is null && Malformed is null;

    /// <summary>
    /// Reads the cursor. The header wins over the query parameter; an empty value counts as absent. A valid cursor is
    /// a non-negative decimal integer of ASCII digits; anything else is malformed.
    /// </summary>
    public static StreamCursor From(string? lastEventIdHeader, string? queryValue)
    {
        var raw = !string.IsNullOrEmpty(lastEventIdHeader) ? lastEventIdHeader : queryValue;
        if (string.IsNullOrEmpty(raw))
        {
            return None;
        }

        return raw.AsSpan().ContainsAnyExceptInRange('0', '9') ||
               !long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? new StreamCursor(null, raw.Length > MaxEchoLength ? raw[..MaxEchoLength] : raw)
            : new StreamCursor(position, null);
    }
}
