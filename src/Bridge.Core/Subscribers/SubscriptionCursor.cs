using System.Security.Cryptography;
using System.Text;
using Bridge.Events;

namespace Bridge.Subscribers;

/// <summary>
/// Several streams in one response, and where the client resumes in each. The response's event ids carry every
/// stream's position, so the browser's own <c>Last-Event-ID</c> resumes all of them exactly.
/// </summary>
/// <remarks>
/// <para>
/// The cursor is <c>{tag}~{position}~{position}…</c>: one position per stream, in the ordinal order of the streams'
/// names, each an event id as a single-stream response sends it (<c>{id}.{epoch}</c>, or the bare id). The tag is six
/// letters and digits derived from the set of streams, so that a cursor from another subscription (a stream added or
/// removed) is recognised as malformed instead of being read as positions of the wrong streams.
/// </para>
/// <para>
/// A bare <c>0</c> (<see cref="FromTheStart"/>) asks for every stream from its first event.
/// It is at most <see cref="MaxLength"/> characters: 6 plus 37 per stream. A cursor that is longer, has another tag,
/// the wrong number of positions, or a position that is not an id is malformed, and every stream gets the gap notice.
/// </para>
/// </remarks>
public sealed class SubscriptionCursor
{
    /// <summary>Separates the tag and the positions.</summary>
    public const char Separator = '~';

    /// <summary>The cursor that asks for every stream from its first event, as <c>0</c> does for one stream.</summary>
    public const string FromTheStart = "0";

    private const int TagLength = 6;

    /// <summary>The longest position: a 19-digit id, a dot and a 16-character epoch, after its separator.</summary>
    private const int MaxPositionLength = 1 + 19 + 1 + StreamEpoch.MaxIdLength;

    private const string TagAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    private SubscriptionCursor(StreamName[] streams, StreamCursor[] positions, string tag)
    {
        Streams = streams;
        Positions = positions;
        Tag = tag;
    }

    /// <summary>The streams, in the ordinal order of their names: the order of positions in the cursor.</summary>
    public IReadOnlyList<StreamName> Streams { get; }

    /// <summary>Where the client resumes in each stream, in the order of <see cref="Streams"/>.</summary>
    public IReadOnlyList<StreamCursor> Positions { get; }

    /// <summary>The tag that names this set of streams in its cursors.</summary>
    public string Tag { get; }

    /// <summary>The longest cursor a subscription to <paramref name="streams"/> streams sends or accepts.</summary>
    public static int MaxLength(int streams) => TagLength + (streams * MaxPositionLength);

    /// <summary>
    /// Reads where a subscription to <paramref name="streams"/> resumes: the <c>Last-Event-ID</c> header, else the query
    /// parameter (as <see cref="StreamCursor.From"/>). With no cursor, every stream starts from now.
    /// </summary>
    /// <exception cref="ArgumentException">No stream, or a stream named twice.</exception>
    public static SubscriptionCursor From(IEnumerable<StreamName> streams, string? lastEventIdHeader, string? queryValue)
    {
        ArgumentNullException.ThrowIfNull(streams);
        var sorted = streams.Order(Comparer<StreamName>.Create((a, b) => string.CompareOrdinal(a.Value, b.Value))).ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A subscription needs at least one stream.", nameof(streams));
        }

        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] == sorted[i - 1])
            {
                throw new ArgumentException($"Stream '{sorted[i]}' is named twice.", nameof(streams));
            }
        }

        var tag = TagOf(sorted);
        var raw = !string.IsNullOrEmpty(lastEventIdHeader) ? lastEventIdHeader : queryValue;
        var positions = new StreamCursor[sorted.Length];
        if (string.IsNullOrEmpty(raw))
        {
            Array.Fill(positions, StreamCursor.None);
        }
        else if (raw == FromTheStart)
        {
            Array.Fill(positions, StreamCursor.From(null, FromTheStart));
        }
        else if (!TryParsePositions(raw, tag, positions))
        {
            Array.Fill(positions, StreamCursor.Unreadable(raw));
        }

        return new SubscriptionCursor(sorted, positions, tag);
    }

    private static bool TryParsePositions(string raw, string tag, StreamCursor[] positions)
    {
        if (raw.Length > MaxLength(positions.Length) || !raw.StartsWith(tag, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = raw.AsSpan(TagLength);
        for (var i = 0; i < positions.Length; i++)
        {
            if (rest.IsEmpty || rest[0] != Separator)
            {
                return false;
            }

            rest = rest[1..];
            var end = rest.IndexOf(Separator);
            var part = end < 0 ? rest : rest[..end];
            positions[i] = StreamCursor.From(null, part.ToString());
            if (positions[i].Position is null)
            {
                return false;
            }

            rest = rest[part.Length..];
        }

        return rest.IsEmpty;
    }

    private static string TagOf(StreamName[] sorted)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', sorted.Select(stream => stream.Value))));
        return string.Create(TagLength, hash, static (tag, hash) =>
        {
            for (var i = 0; i < tag.Length; i++)
            {
                tag[i] = TagAlphabet[hash[i] % TagAlphabet.Length];
            }
        });
    }
}
