using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using Bridge.Events;
using Bridge.Sse;

namespace Bridge.Core.Tests.Sse;

public class SseFormatTests
{
    [Fact]
    public void A_message_event_is_id_then_data_then_a_blank_line()
    {
        Assert.Equal("id: 7\ndata: hello\n\n", Event(7, EventType.Message, "hello"));
    }

    [Fact]
    public void A_typed_event_names_its_type()
    {
        Assert.Equal("id: 1\nevent: order.created\ndata: {}\n\n", Event(1, EventType.Parse("order.created"), "{}"));
    }

    [Theory]
    [InlineData("a\nb", "data: a\ndata: b\n")]
    [InlineData("a\rb", "data: a\ndata: b\n")]
    [InlineData("a\r\nb", "data: a\ndata: b\n")]
    [InlineData("a\n\r\nb\r", "data: a\ndata: \ndata: b\ndata: \n")]
    [InlineData("", "data: \n")]
    [InlineData("\n", "data: \ndata: \n")]
    [InlineData(" leading space", "data:  leading space\n")]
    public void Every_line_break_in_data_starts_a_new_data_line(string data, string expectedDataLines)
    {
        Assert.Equal($"id: 1\n{expectedDataLines}\n", Event(1, EventType.Message, data));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("multi\nline\ntext")]
    [InlineData("crlf\r\nand\rcr")]
    [InlineData("trailing newline\n")]
    [InlineData("")]
    [InlineData(" spaces  around ")]
    [InlineData("ünïcødé ✓ 𝄞 emoji 🎉")]
    [InlineData("id: 999\nevent: evil\nretry: 1\n\ndata: injected")]
    [InlineData(": not a comment")]
    public void A_conforming_parser_reads_back_the_data_with_line_breaks_as_LF(string data)
    {
        var bytes = Encoding.UTF8.GetBytes(Event(42, EventType.Parse("t"), data));

        var items = SseParser.Create(new MemoryStream(bytes)).Enumerate().ToList();

        var item = Assert.Single(items);
        Assert.Equal("t", item.EventType);
        Assert.Equal("42", item.EventId);
        Assert.Equal(data.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n'), item.Data);
    }

    [Fact]
    public void The_preamble_sets_the_retry_time_and_optionally_the_last_event_id_without_dispatching()
    {
        var withId = Write(output => SseFormat.WritePreamble(output, 2500, 17, "k3m9x2ab"));
        var withoutId = Write(output => SseFormat.WritePreamble(output, 3000, null, "k3m9x2ab"));
        var withoutEpoch = Write(output => SseFormat.WritePreamble(output, 3000, 17, string.Empty));

        Assert.Equal("retry: 2500\nid: 17.k3m9x2ab\n\n", withId);
        Assert.Equal("retry: 3000\n\n", withoutId);
        Assert.Equal("retry: 3000\nid: 17\n\n", withoutEpoch);
        var parser = SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(withId)));
        Assert.Empty(parser.Enumerate());
        Assert.Equal("17.k3m9x2ab", parser.LastEventId);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), parser.ReconnectionInterval);
    }

    [Fact]
    public void Heartbeats_and_comments_are_comment_blocks()
    {
        Assert.Equal(": heartbeat\n\n", Encoding.UTF8.GetString(SseFormat.Heartbeat.Span));
        Assert.Equal(": storage is away\n\n", Write(output => SseFormat.WriteComment(output, "storage is away")));
        Assert.Throws<ArgumentException>(() => Write(output => SseFormat.WriteComment(output, "two\nlines")));
    }

    [Fact]
    public void Large_data_is_written_whole_across_buffer_segments()
    {
        var data = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"row {i}\n"));

        var items = SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(Event(1, EventType.Message, data)))).Enumerate().ToList();

        Assert.Equal(data, Assert.Single(items).Data);
    }

    private static string Event(long id, EventType type, string data) =>
        Write(output => SseFormat.WriteEvent(output, id, string.Empty, type, Encoding.UTF8.GetBytes(data)));

    private static string Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>(16);
        write(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
