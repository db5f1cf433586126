using Bridge.Subscribers;

namespace Bridge.Core.Tests.Subscribers;

public class StreamCursorTests
{
    [Theory]
    [InlineData("5", null, 5L)]
    [InlineData("5", "9", 5L)]
    [InlineData("", "9", 9L)]
    [InlineData(null, "0", 0L)]
    [InlineData("007", null, 7L)]
    [InlineData("9223372036854775807", null, long.MaxValue)]
    public void The_header_wins_and_an_empty_value_counts_as_absent(string? header, string? query, long expected)
    {
        Assert.Equal(expected, StreamCursor.From(header, query).Position);
    }

    [Theory]
    [InlineData("42.k3m9x2ab", 42L, "k3m9x2ab")]
    [InlineData("0.z", 0L, "z")]
    [InlineData("7", 7L, null)]
    public void An_id_as_Bridge_sends_it_carries_the_number_and_the_epoch(string raw, long position, string? epoch)
    {
        var cursor = StreamCursor.From(raw, null);

        Assert.Equal(position, cursor.Position);
        Assert.Equal(epoch, cursor.Epoch);
        Assert.Null(cursor.Malformed);
    }

    [Fact]
    public void No_cursor_at_all_is_none()
    {
        Assert.True(StreamCursor.From(null, null).IsNone);
        Assert.True(StreamCursor.From("", "").IsNone);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("1.")]
    [InlineData(".k3m9x2ab")]
    [InlineData("1.K3M9X2AB")]
    [InlineData("1.k3m9.x2ab")]
    [InlineData("1.abcdefghijklmnopq")]
    [InlineData("1.k3m-x2ab")]
    [InlineData(" 5")]
    [InlineData("5,6")]
    [InlineData("9223372036854775808")]
    [InlineData("١٢")]
    [InlineData("0x10")]
    public void Anything_but_ascii_digits_within_range_is_malformed_and_kept_for_the_gap_notice(string raw)
    {
        var cursor = StreamCursor.From(raw, null);

        Assert.Null(cursor.Position);
        Assert.Equal(raw, cursor.Malformed);
    }

    [Fact]
    public void A_huge_malformed_cursor_is_shortened_before_it_is_echoed()
    {
        var cursor = StreamCursor.From(new string('x', 10_000), null);

        Assert.Equal(128, cursor.Malformed!.Length);
    }
}
