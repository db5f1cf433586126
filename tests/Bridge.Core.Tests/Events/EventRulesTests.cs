using Bridge.Events;
using Microsoft.Extensions.Options;

namespace Bridge.Core.Tests.Events;

/// <summary>The deployment's own name and type lengths, on top of the fixed rules.</summary>
public class EventRulesTests
{
    private readonly EventRules _rules = new(Options.Create(new EventRulesOptions { MaxStreamNameLength = 10, MaxEventTypeLength = 5 }));

    [Fact]
    public void Names_and_types_longer_than_the_settings_are_refused_naming_the_setting()
    {
        Assert.True(_rules.TryParseStream("ten-chars!"[..10].Replace('!', 'x'), out _, out _));
        Assert.False(_rules.TryParseStream("eleven-char", out _, out var streamError));
        Assert.Contains("Limits:MaxStreamNameLength", streamError, StringComparison.Ordinal);

        Assert.True(_rules.TryParseType("short", out _, out _));
        Assert.False(_rules.TryParseType("longer", out _, out var typeError));
        Assert.Contains("Limits:MaxEventTypeLength", typeError, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fixed_rules_still_apply()
    {
        Assert.False(_rules.TryParseStream("bad name", out _, out _));
        Assert.False(_rules.TryParseType("bridge.x", out _, out _));
        Assert.True(_rules.TryParseType(null, out var type, out _));
        Assert.True(type.IsMessage);
    }
}
