using Bridge.Events;

namespace Bridge.Core.Tests.Events;

public class NameRulesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("orders")]
    [InlineData("tenant:acme.orders_v2-eu")]
    [InlineData("0123456789")]
    public void Valid_stream_names(string name)
    {
        Assert.True(StreamName.TryParse(name, out var parsed, out _));
        Assert.Equal(name, parsed.Value);
    }

    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "required")]
    [InlineData("has space", "may contain only")]
    [InlineData("slash/inside", "may contain only")]
    [InlineData("back\\slash", "may contain only")]
    [InlineData("hash#", "may contain only")]
    [InlineData("question?", "may contain only")]
    [InlineData("quote'", "may contain only")]
    [InlineData("new\nline", "may contain only")]
    [InlineData("nul\0", "may contain only")]
    [InlineData("ünicode", "may contain only")]
    [InlineData("percent%20", "may contain only")]
    public void Invalid_stream_names_say_why(string? name, string reason)
    {
        Assert.False(StreamName.TryParse(name, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_name_has_at_most_128_characters()
    {
        Assert.True(StreamName.TryParse(new string('s', 128), out _, out _));
        Assert.False(StreamName.TryParse(new string('s', 129), out _, out var error));
        Assert.Contains("128", error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => StreamName.Parse(new string('s', 129)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("message")]
    public void No_type_and_message_are_the_default_type(string? type)
    {
        Assert.True(EventType.TryParse(type, out var parsed, out _));
        Assert.True(parsed.IsMessage);
        Assert.Equal(EventType.Message, parsed);
        Assert.Equal(default, parsed);
    }

    [Theory]
    [InlineData("bridge.gap")]
    [InlineData("Bridge.anything")]
    [InlineData("type\nwith break")]
    [InlineData("event: injected")]
    [InlineData("tab\there")]
    public void Reserved_and_unsafe_types_are_refused(string type)
    {
        Assert.False(EventType.TryParse(type, out _, out _));
    }

    [Fact]
    public void A_type_has_at_most_100_characters()
    {
        Assert.True(EventType.TryParse(new string('t', 100), out _, out _));
        Assert.False(EventType.TryParse(new string('t', 101), out _, out _));
    }

    [Theory]
    [InlineData("6f9619ff-8b86-d011-b42d-00c04fc964ff", true)]
    [InlineData("any printable text, even spaces & ünïcode", true)]
    [InlineData("", false)]
    [InlineData("line\nbreak", false)]
    [InlineData("nul\0", false)]
    [InlineData("del\x7f", false)]
    public void Idempotency_keys_are_printable_text(string key, bool valid)
    {
        Assert.Equal(valid, IdempotencyKey.TryParse(key, out _, out _));
    }

    [Fact]
    public void An_idempotency_key_has_at_most_200_characters()
    {
        Assert.True(IdempotencyKey.TryParse(new string('k', 200), out _, out _));
        Assert.False(IdempotencyKey.TryParse(new string('k', 201), out _, out _));
    }

    [Fact]
    public void Event_data_must_be_utf8_and_at_most_256_KiB()
    {
        Assert.True(EventData.TryValidate(new byte[EventData.MaxBytes], out _));
        Assert.False(EventData.TryValidate(new byte[EventData.MaxBytes + 1], out var tooLarge));
        Assert.Equal(EventDataProblemKind.TooLarge, tooLarge.Kind);
        Assert.False(EventData.TryValidate([0x66, 0xff, 0x6f], out var notText));
        Assert.Equal(EventDataProblemKind.NotUtf8, notText.Kind);
        Assert.False(EventData.TryValidate([0xed, 0xa0, 0x80], out _)); // an encoded surrogate
        Assert.Throws<ArgumentException>(() => new NewEvent(EventType.Message, new byte[] { 0xc3 }));
    }
}
