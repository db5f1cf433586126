using System.Buffers;
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

    private static readonly SearchValues<char> EpochCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789");

    private StreamCursor(long? position, string? epoch, string? malformed)
    {
        Position = position;
        Epoch = epoch;
        Malformed = malformed;
    }

    /// <summary>No cursor: only events committed from now on are sent.</summary>
    public static StreamCursor None => default;

    /// <summary>The last id the client holds, when the cursor is a valid id.</summary>
    public long? Position { get; }

    /// <summary>
    /// The stream epoch the id belongs to (<see cref="Events.StreamEpoch"/>); null for a bare id, which is taken to be
    /// in the stream's current epoch.
    /// </summary>
    public string? Epoch { get; }

    /// <summary>The cursor as received (shortened), when it is not a valid id.</summary>
    public string? Malformed { get; }

    /// <summary>True when no cursor was given.</summary>
    public bool IsNone => Position is null && Malformed is null;

    /// <summary>
    /// Reads the cursor. The header wins over the query parameter; an empty value counts as absent. A valid cursor is
    /// an event's id as Bridge sends it: a non-negative decimal integer of ASCII digits, then optionally a dot and the
    /// epoch (1 to 16 lowercase ASCII letters and digits). Anything else is malformed.
    /// </summary>
    public static StreamCursor From(string? lastEventIdHeader, string? queryValue)
    {
        var raw = !string.IsNullOrEmpty(lastEventIdHeader) ? lastEventIdHeader : queryValue;
        if (string.IsNullOrEmpty(raw))
        {
            return None;
        }

        var dot = raw.IndexOf('.', StringComparison.Ordinal);
        var number = dot < 0 ? raw.AsSpan() : raw.AsSpan(0, dot);
        var epoch = dot < 0 ? null : raw[(dot + 1)..];
        return !number.IsEmpty && !number.ContainsAnyExceptInRange('0', '9') &&
               long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var position) &&
               (epoch is null || IsEpoch(epoch))
            ? new StreamCursor(position, epoch, null)
            : Unreadable(raw);
    }

    /// <summary>A cursor that cannot be honoured as given, echoed (shortened) in the gap notice.</summary>
    public static StreamCursor Unreadable(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return new StreamCursor(null, null, raw.Length > MaxEchoLength ? raw[..MaxEchoLength] : raw);
    }

    /// <summary>
    /// An event's id as Bridge sends it and reads it back: <c>{id}.{epoch}</c>, or the bare number for a stream with no
    /// epoch. (<see cref="Sse.SseFormat"/> writes the same form as bytes.)
    /// </summary>
    public static string Format(long id, string epoch) =>
        epoch.Length > 0 ? FormattableString.Invariant($"{id}.{epoch}") : id.ToString(CultureInfo.InvariantCulture);

    private static bool IsEpoch(string epoch) =>
        epoch.Length is > 0 and <= Events.StreamEpoch.MaxIdLength &&
        !epoch.AsSpan().ContainsAnyExcept(EpochCharacters);
}
