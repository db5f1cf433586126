using System.ComponentModel.DataAnnotations;

namespace Bridge.Http.Endpoints;

/// <summary>Limits of the publish endpoints, bound from the <c>Publish</c> section.</summary>
public sealed class PublishOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Publish";

    /// <summary>Events in one batch publish (<c>Publish__MaxBatchEvents</c>).</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 1_000;

    /// <summary>Bytes in one batch publish's request body (<c>Publish__MaxBatchBytes</c>).</summary>
    [Range(1_024, 64 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;
}
