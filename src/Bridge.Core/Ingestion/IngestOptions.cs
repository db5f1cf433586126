using System.ComponentModel.DataAnnotations;
using Bridge.Events;

namespace Bridge.Ingestion;

/// <summary>Settings of message ingestion, bound from the <c>Ingest</c> section.</summary>
public sealed class IngestOptions : IValidatableObject
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Ingest";

    /// <summary>
    /// The stream for messages that name none, neither by the <c>stream</c> property nor by a session id
    /// (<c>Ingest__DefaultStream</c>). Empty means such messages are dead-lettered.
    /// </summary>
    public string? DefaultStream { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(DefaultStream) && !StreamName.TryParse(DefaultStream, out _, out var error))
        {
            yield return new ValidationResult($"Ingest:DefaultStream is not a valid stream name: {error}", [nameof(DefaultStream)]);
        }
    }
}
