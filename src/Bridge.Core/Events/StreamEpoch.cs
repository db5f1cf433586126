using System.Security.Cryptography;

namespace Bridge.Events;

/// <summary>
/// Which history of a stream an id belongs to. Ids alone are not enough: when storage loses acknowledged writes (a
/// restored backup, a deleted and re-created table, an emulator killed before it saved), the next writer hands the
/// lost ids to new events. A new epoch is started whenever that is detected, so a cursor from the lost history is
/// recognised as such instead of silently matching different events.
/// </summary>
/// <param name="Id">
/// The epoch's name: 8 lowercase letters and digits, chosen at random when a stream's head is created or its
/// history is found to have regressed. Empty for a stream that has no head yet, or whose head predates epochs.
/// </param>
/// <param name="ParentId">The epoch this one replaced in place (history up to <paramref name="ReplacedFrom"/> kept), if any.</param>
/// <param name="ReplacedFrom">
/// The first id whose event may differ from the parent epoch's event with that id. Ids before it are the same events
/// in both epochs.
/// </param>
public sealed record StreamEpoch(string Id, string? ParentId, long ReplacedFrom)
{
    /// <summary>The longest epoch name a cursor may carry.</summary>
    public const int MaxIdLength = 16;

    private const int IdLength = 8;
    private const string IdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    /// <summary>No epoch: a stream with no head yet, or one written before epochs existed.</summary>
    public static StreamEpoch None { get; } = new(string.Empty, null, 1);

    /// <summary>A new epoch for a stream with no history.</summary>
    public static StreamEpoch Start() => new(NewId(), null, 1);

    /// <summary>
    /// The epoch that follows this one when storage turned out to hold only the ids up to
    /// <paramref name="keptThroughId"/>, although later ones had been issued.
    /// </summary>
    public StreamEpoch ReplaceAfter(long keptThroughId) => new(NewId(), Id, keptThroughId + 1);

    /// <summary>
    /// Where a client holding events up to <paramref name="position"/> of epoch <paramref name="epochId"/> resumes in
    /// this epoch. <paramref name="replaced"/> is true when some of the events it holds are not this epoch's events
    /// (it must drop those after the returned id). A cursor without an epoch (null) is taken to be in this epoch.
    /// </summary>
    public long ResumePoint(string? epochId, long position, out bool replaced)
    {
        replaced = false;
        if (epochId is null || epochId == Id || position == 0)
        {
            return position;
        }

        if (epochId == ParentId && position < ReplacedFrom)
        {
            return position;
        }

        replaced = true;
        return epochId == ParentId ? ReplacedFrom - 1 : 0;
    }

    private static string NewId() => RandomNumberGenerator.GetString(IdAlphabet, IdLength);
}

/// <summary>Where a stream stands: the id of its last committed event, and the history that id belongs to.</summary>
/// <param name="LastId">The last committed id, or 0 when the stream has none.</param>
/// <param name="Epoch">The stream's current epoch.</param>
public readonly record struct StreamHead(long LastId, StreamEpoch Epoch)
{
    /// <summary>The head of a stream that has never been written.</summary>
    public static StreamHead Empty { get; } = new(0, StreamEpoch.None);
}
