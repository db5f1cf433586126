using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace Bridge.Events;

/// <summary>
/// The name and type rules of this deployment: <see cref="StreamName"/> and <see cref="EventType"/>'s own rules, with
/// the lengths tightened by settings. Every way in (HTTP publish, broker ingest, subscribe) applies the same rules, so
/// no path can create a stream that another path then refuses.
/// </summary>
public sealed class EventRules(IOptions<EventRulesOptions> options)
{
    private readonly EventRulesOptions _options = options.Value;

    /// <summary>Validates a stream name.</summary>
    public bool TryParseStream(string? text, out StreamName name, [NotNullWhen(false)] out string? error)
    {
        if (!StreamName.TryParse(text, out name, out error))
        {
            return false;
        }

        if (name.Value.Length > _options.MaxStreamNameLength)
        {
            error = $"A stream name has at most {_options.MaxStreamNameLength} characters here ({EventRulesOptions.SectionName}:{nameof(EventRulesOptions.MaxStreamNameLength)}); this one has {name.Value.Length}.";
            return false;
        }

        return true;
    }

    /// <summary>Validates an event type chosen by a publisher; null means the default type, and empty is refused.</summary>
    public bool TryParseType(string? text, out EventType type, [NotNullWhen(false)] out string? error)
    {
        if (text is { Length: 0 })
        {
            // Absent (null) means the default type; an empty one is a mistake the publisher should hear about.
            type = EventType.Message;
            error = $"An event type has 1 to {Math.Min(EventType.MaxLength, _options.MaxEventTypeLength)} characters; leave the type out for the default type \"message\".";
            return false;
        }

        if (!EventType.TryParse(text, out type, out error))
        {
            return false;
        }

        // The default type is not the publisher's choice, so the length limit does not apply to it.
        if (!type.IsMessage && type.Value.Length > _options.MaxEventTypeLength)
        {
            error = $"An event type has at most {_options.MaxEventTypeLength} characters here ({EventRulesOptions.SectionName}:{nameof(EventRulesOptions.MaxEventTypeLength)}); this one has {type.Value.Length}.";
            return false;
        }

        return true;
    }
}

/// <summary>The lengths a deployment allows for names and types, bound from the <c>Limits</c> section.</summary>
public sealed class EventRulesOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Limits";

    /// <summary>The longest stream name accepted (at most <see cref="StreamName.MaxLength"/>).</summary>
    [Range(1, StreamName.MaxLength)]
    public int MaxStreamNameLength { get; set; } = StreamName.MaxLength;

    /// <summary>The longest event type accepted (at most <see cref="EventType.MaxLength"/>).</summary>
    [Range(1, EventType.MaxLength)]
    public int MaxEventTypeLength { get; set; } = EventType.MaxLength;
}
