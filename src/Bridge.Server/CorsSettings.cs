using System.ComponentModel.DataAnnotations;

namespace Bridge.Server;

/// <summary>
/// Which other origins may call the API from a browser, bound from the <c>Cors</c> section. With none listed (the
/// default), only pages served by this server may. Azure Functions applies its own CORS settings instead; see README.
/// </summary>
public sealed class CorsSettings : IValidatableObject
{
    /// <summary>The configuration section these settings are bound from.</summary>
    public const string SectionName = "Cors";

    /// <summary>
    /// <c>Cors__AllowedOrigins</c>: origins such as <c>https://app.example.com</c>, comma-separated; or <c>*</c> for any
    /// origin, which is allowed only without credentials.
    /// </summary>
    public string? AllowedOrigins { get; set; }

    /// <summary><c>Cors__AllowCredentials</c>: let those origins send the subscriber cookie (true by default).</summary>
    public bool AllowCredentials { get; set; } = true;

    /// <summary>The origins, parsed.</summary>
    public IReadOnlyList<string> Origins =>
        AllowedOrigins?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    /// <summary>True when any origin may call, without credentials.</summary>
    public bool AnyOrigin => Origins is ["*"];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Origins.Contains("*"))
        {
            if (Origins.Count > 1)
            {
                yield return new ValidationResult("Cors:AllowedOrigins is either * or a list of origins, not both.");
            }
            else if (AllowCredentials)
            {
                yield return new ValidationResult(
                    "Cors:AllowedOrigins=* cannot be combined with credentials, because any site could then read streams in its visitors' names. " +
                    "List the origins instead, or set Cors:AllowCredentials=false.");
            }

            yield break;
        }

        foreach (var origin in Origins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                yield return new ValidationResult($"Cors:AllowedOrigins: '{origin}' is not an origin such as https://app.example.com (scheme, host and optional port, no path).");
            }
        }
    }
}
