using Microsoft.Extensions.Time.Testing;

namespace Bridge.TableStorage.Tests;

/// <summary>How rival writers deal out turns from what the head lists, on a fake clock.</summary>
public class WriterTurnsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_writer_alone_never_waits()
    {
        var alone = new WriterTurns(_time);

        Assert.False(alone.Contended);
        Assert.Equal(TimeSpan.Zero, alone.UntilTurn(out var rivalsMayHaveWritten));
        Assert.False(rivalsMayHaveWritten);
        Assert.True(alone.MayContinue());
    }

    [Fact]
    public void Two_listed_writers_take_alternate_turns_and_catch_up_at_the_start_of_each()
    {
        var (first, second) = (new WriterTurns(_time), new WriterTurns(_time));
        var head = first.List();
        second.Observe(head);
        first.Observe(second.List());

        for (var slice = 0; slice < 6; slice++)
        {
            Assert.NotEqual(first.MayContinue(), second.MayContinue());
            var (inTurn, waiting) = first.MayContinue() ? (first, second) : (second, first);
            Assert.Equal(TimeSpan.Zero, inTurn.UntilTurn(out var rivalsMayHaveWritten));
            Assert.True(rivalsMayHaveWritten);
            inTurn.Committed();
            inTurn.UntilTurn(out rivalsMayHaveWritten);
            Assert.False(rivalsMayHaveWritten);
            Assert.InRange(waiting.UntilTurn(out _), TimeSpan.FromTicks(1), WriterTurns.TurnLength);

            // Both commit within their turns, which keeps each listed as a live rival of the other.
            _time.Advance(WriterTurns.TurnLength);
            first.Observe(second.List());
            second.Observe(first.List());
        }
    }

    [Fact]
    public void A_rival_that_stopped_committing_drops_out_after_its_presence_lifetime()
    {
        var (writer, rival) = (new WriterTurns(_time), new WriterTurns(_time));
        writer.Observe(rival.List());
        Assert.True(writer.Contended);
        Assert.Contains(rival.Id, writer.List(), StringComparison.Ordinal);

        _time.Advance(WriterTurns.PresenceLifetime);

        Assert.False(writer.Contended);
        Assert.DoesNotContain(rival.Id, writer.List(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, writer.UntilTurn(out _));
    }

    [Fact]
    public void A_writer_knows_whether_the_head_lists_it()
    {
        var (writer, rival) = (new WriterTurns(_time), new WriterTurns(_time));

        Assert.True(writer.IsUnlisted(null));
        Assert.True(writer.IsUnlisted(rival.List()));
        Assert.False(writer.IsUnlisted(writer.List()));
        rival.Observe(writer.List());
        var headListingBoth = rival.List();
        Assert.False(writer.IsUnlisted(headListingBoth));

        _time.Advance(WriterTurns.PresenceLifetime);
        Assert.True(writer.IsUnlisted(headListingBoth));
    }

    [Fact]
    public void The_list_stays_within_its_bound_however_many_writers_contend()
    {
        var writer = new WriterTurns(_time);
        var rivals = Enumerable.Range(0, 40).Select(_ => new WriterTurns(_time).List());

        writer.Observe(string.Join(';', rivals));

        Assert.InRange(writer.List().Length, 1, WriterTurns.MaxListLength);
        Assert.Equal(WriterTurns.MaxListedWriters, writer.List().Split(';').Length);
    }
}
