using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Bridge.Events;

namespace Bridge.TableStorage.Retention;

/// <summary>
/// How much of each stream's history is kept, bound from the <c>Retention</c> section. By default every event is kept.
/// </summary>
/// <remarks>
/// Retention never removes an event among a stream's last <see cref="TableEventLogOptions.IdempotencyWindowEvents"/>,
/// because the idempotency window reads their keys to recognise a redelivery: a stream keeps at least that many events
/// whatever these settings say.
/// </remarks>
public sealed class RetentionOptions : IValidatableObject
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Retention";

    /// <summary>
    /// The most events kept per stream (<c>Retention__MaxEventsPerStream</c>); 0 keeps every event. Older ones are
    /// pruned.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxEventsPerStream { get; set; }

    /// <summary>Hours an event is kept (<c>Retention__MaxAgeHours</c>); 0 keeps events however old.</summary>
    [Range(0, 1_000_000)]
    public double MaxAgeHours { get; set; }

    /// <summary>
    /// Limits for the streams whose names match a pattern (<c>Retention__Overrides__0__Pattern</c>,
    /// <c>…__MaxEventsPerStream</c>, <c>…__MaxAgeHours</c>); the first match wins, and a limit it leaves out is the
    /// default's. A pattern is a stream name in which <c>*</c> stands for any run of characters.
    /// </summary>
    public List<RetentionOverride> Overrides { get; set; } = [];

    /// <summary>
    /// Seconds between pruning rounds (<c>Retention__PruneIntervalSeconds</c>). Each round prunes the streams this
    /// instance appended to or read since the last round; streams nobody uses cost nothing and are pruned when they
    /// are next used.
    /// </summary>
    [Range(1, 86_400)]
    public int PruneIntervalSeconds { get; set; } = 300;

    /// <summary>True when some stream may have events to prune.</summary>
    public bool LimitsAnything =>
        MaxEventsPerStream > 0 || MaxAgeHours > 0 || Overrides.Any(rule => rule.MaxEventsPerStream > 0 || rule.MaxAgeHours > 0);

    /// <summary>The limits that apply to <paramref name="stream"/>.</summary>
    public RetentionRule RuleFor(StreamName stream)
    {
        var match = Overrides.FirstOrDefault(rule => rule.Matches(stream));
        return new RetentionRule(
            match?.MaxEventsPerStream ?? MaxEventsPerStream,
            TimeSpan.FromHours(match?.MaxAgeHours ?? MaxAgeHours));
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Overrides.Count; i++)
        {
            var rule = Overrides[i];
            if (string.IsNullOrWhiteSpace(rule.Pattern))
            {
                yield return new ValidationResult($"Retention:Overrides:{i}:Pattern is required: a stream name, with * for any run of characters.");
            }

            if (rule.MaxEventsPerStream < 0 || rule.MaxAgeHours < 0)
            {
                yield return new ValidationResult($"Retention:Overrides:{i} has a negative limit; use 0 to keep everything.");
            }
        }
    }
}

/// <summary>Retention limits for the streams whose names match <see cref="Pattern"/>.</summary>
public sealed class RetentionOverride
{
    /// <summary>A stream name in which <c>*</c> stands for any run of characters, such as <c>chat-*</c>.</summary>
    public string Pattern { get; set; } = string.Empty;

    /// <summary>The most events kept per matching stream; 0 keeps every event; unset takes the default.</summary>
    public long? MaxEventsPerStream { get; set; }

    /// <summary>Hours an event of a matching stream is kept; 0 keeps events however old; unset takes the default.</summary>
    public double? MaxAgeHours { get; set; }

    internal bool Matches(StreamName stream) =>
        Regex.IsMatch(stream.Value, "^" + string.Join(".*", Pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}

/// <summary>The limits for one stream: 0 (or zero time) for no limit.</summary>
public readonly record struct RetentionRule(long MaxEvents, TimeSpan MaxAge)
{
    /// <summary>True when the rule keeps every event.</summary>
    public bool KeepsEverything => MaxEvents <= 0 && MaxAge <= TimeSpan.Zero;
}
