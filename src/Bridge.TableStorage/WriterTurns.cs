using System.Globalization;
using System.Text;

namespace Bridge.TableStorage;

/// <summary>
/// Turns that rival writers of one stream take while they contend for it, so that each commits in bounded time and
/// with full transactions.
/// </summary>
/// <remarks>
/// <para>
/// Without turns, a writer that lost a race must read what the winner committed before it can try again, while the
/// winner, which needs no read, has already sent its next transaction: the loser loses again, for seconds at a time,
/// and each writer's transactions carry only its own callers' events (issue 16, finding 4).
/// </para>
/// <para>
/// So every commit records in the head row which writers appended lately (<c>Writers</c>: <c>id@unix-ms</c> pairs).
/// A writer that loses a race and is not listed adds itself with an unconditional merge; that moves the head's ETag, so
/// the winner's next commit fails too and it reads the list. From then on each listed writer commits only in its own
/// turns: time is cut into <see cref="TurnLength"/> slices, dealt round-robin in the order of the writers' ids. A
/// writer reads what the others committed once at the start of its turn, then commits back to back until the turn
/// ends, while its callers' appends gather into full transactions between its turns.
/// </para>
/// <para>
/// A writer drops out of the list <see cref="PresenceLifetime"/> after its last commit, and a writer alone commits
/// whenever it likes. The turns rely on the instances' clocks agreeing to within a few milliseconds (as NTP keeps
/// them on Azure); clocks further apart only cost lost races, never a wrong id, since every commit is still
/// conditional on the head's ETag.
/// </para>
/// </remarks>
internal sealed class WriterTurns(TimeProvider time)
{
    /// <summary>Each contending writer's slice of time.</summary>
    public static readonly TimeSpan TurnLength = TimeSpan.FromMilliseconds(100);

    /// <summary>How long after its last commit a writer still counts as a rival.</summary>
    public static readonly TimeSpan PresenceLifetime = TimeSpan.FromSeconds(1);

    /// <summary>The most writers the head lists; beyond that the ones seen longest ago are left out.</summary>
    public const int MaxListedWriters = 16;

    /// <summary>The longest <c>Writers</c> value: ids of 12 characters, and 13-digit times.</summary>
    public const int MaxListLength = MaxListedWriters * (IdLength + 1 + 13 + 1);

    private const int IdLength = 12;

    private readonly Dictionary<string, long> _rivalsLastSeen = new(StringComparer.Ordinal); // unix ms

    private long _turnOfLastCommit = -1;

    /// <summary>This writer's name in the head's list.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N")[..IdLength];

    /// <summary>True while another writer appended within <see cref="PresenceLifetime"/>.</summary>
    public bool Contended => LiveRivals(Now).Any();

    /// <summary>Learns the writers listed in a head row just read.</summary>
    public void Observe(string? writers)
    {
        _rivalsLastSeen.Clear();
        foreach (var (id, lastSeen) in Parse(writers))
        {
            if (id != Id)
            {
                _rivalsLastSeen[id] = lastSeen;
            }
        }
    }

    /// <summary>True when the head just read does not list this writer as a live one.</summary>
    public bool IsUnlisted(string? writers) =>
        !Parse(writers).Any(entry => entry.Id == Id && Now - entry.LastSeen < (long)PresenceLifetime.TotalMilliseconds);

    /// <summary>The list to write with a commit made now: this writer, and the rivals still live.</summary>
    public string List()
    {
        var now = Now;
        var listed = new StringBuilder().Append(Id).Append('@').Append(now.ToString(CultureInfo.InvariantCulture));
        foreach (var (id, lastSeen) in LiveRivals(now).OrderByDescending(rival => rival.Value).Take(MaxListedWriters - 1))
        {
            listed.Append(';').Append(id).Append('@').Append(lastSeen.ToString(CultureInfo.InvariantCulture));
        }

        return listed.ToString();
    }

    /// <summary>
    /// How long until this writer's turn: zero when it is alone or its turn is now. A turn other than the one of the
    /// last commit means rivals may have written since, which <paramref name="rivalsMayHaveWritten"/> says.
    /// </summary>
    public TimeSpan UntilTurn(out bool rivalsMayHaveWritten)
    {
        var now = Now;
        var (position, writers) = Seat(now);
        rivalsMayHaveWritten = false;
        if (writers == 1)
        {
            return TimeSpan.Zero;
        }

        var slice = (long)TurnLength.TotalMilliseconds;
        var currentSlice = now / slice;
        var slicesToWait = ((position - currentSlice % writers) + writers) % writers;
        if (slicesToWait > 0)
        {
            return TimeSpan.FromMilliseconds(((currentSlice + slicesToWait) * slice) - now);
        }

        rivalsMayHaveWritten = currentSlice != _turnOfLastCommit;
        return TimeSpan.Zero;
    }

    /// <summary>True while this writer may keep committing: it is alone, or its turn has not ended.</summary>
    public bool MayContinue()
    {
        var now = Now;
        var (position, writers) = Seat(now);
        return writers == 1 || (now / (long)TurnLength.TotalMilliseconds) % writers == position;
    }

    /// <summary>Records a commit of this writer's, made in the current turn.</summary>
    public void Committed() => _turnOfLastCommit = Now / (long)TurnLength.TotalMilliseconds;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private IEnumerable<KeyValuePair<string, long>> LiveRivals(long now) =>
        _rivalsLastSeen.Where(rival => now - rival.Value < (long)PresenceLifetime.TotalMilliseconds);

    /// <summary>This writer's place among the live writers in id order, and how many there are.</summary>
    private (long Position, long Writers) Seat(long now)
    {
        var (position, writers) = (0L, 1L);
        foreach (var rival in LiveRivals(now))
        {
            position += string.CompareOrdinal(rival.Key, Id) < 0 ? 1 : 0;
            writers++;
        }

        return (position, writers);
    }

    private static IEnumerable<(string Id, long LastSeen)> Parse(string? writers)
    {
        foreach (var entry in (writers ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = entry.IndexOf('@', StringComparison.Ordinal);
            if (at > 0 && long.TryParse(entry.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var lastSeen))
            {
                yield return (entry[..at], lastSeen);
            }
        }
    }
}
