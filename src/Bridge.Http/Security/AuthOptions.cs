using System.ComponentModel.DataAnnotations;

namespace Bridge.Http.Security;

/// <summary>How requests are authorized.</summary>
public enum AuthMode
{
    /// <summary>Subscribers and publishers present a JWT (the default). Needs a signing key or a JWKS URL.</summary>
    Jwt,

    /// <summary>No authorization: anyone who reaches the server reads and publishes every stream. For development.</summary>
    Open,
}

/// <summary>Settings of subscriber and publisher tokens, bound from the <c>Auth</c> section.</summary>
public sealed class AuthOptions : IValidatableObject
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Auth";

    /// <summary><c>Auth__Mode</c>: <c>Jwt</c> (default) or <c>Open</c>.</summary>
    public AuthMode Mode { get; set; } = AuthMode.Jwt;

    /// <summary><c>Auth__SigningKey</c>: a base64 key of at least 32 bytes, for HS256 tokens. Empty means none.</summary>
    public string? SigningKey { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; }

    /// <summary>
    /// <c>Auth__PreviousSigningKey</c>: a second HS256 key still accepted while tokens signed with it are in use, so a
    /// key can be rotated without logging everyone out.
    /// </summary>
    public string? PreviousSigningKey { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; }

    /// <summary><c>Auth__JwksUrl</c>: where the keys of asymmetric tokens (RS256, ES256…) are published.</summary>
    public Uri? JwksUrl { get; set; }

    /// <summary><c>Auth__JwksRefreshMinutes</c>: how often the JWKS is read again (also at once on an unknown key id).</summary>
    [Range(1, 1440)]
    public int JwksRefreshMinutes { get; set; } = 10;

    /// <summary>
    /// <c>Auth__JwksMinRefreshSeconds</c>: the shortest time between two reads of the JWKS when tokens name unknown
    /// keys, so a stream of forged key ids cannot make the server hammer the issuer.
    /// </summary>
    [Range(0, 3600)]
    public int JwksMinRefreshSeconds { get; set; } = 30;

    /// <summary><c>Auth__Issuer</c>: the required <c>iss</c>, if set.</summary>
    public string? Issuer { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; }

    /// <summary><c>Auth__Audience</c>: the required <c>aud</c>, if set.</summary>
    public string? Audience { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; }

    /// <summary><c>Auth__ClockSkewSeconds</c>: tolerance for <c>exp</c> and <c>nbf</c> when a token is checked.</summary>
    [Range(0, 600)]
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary><c>Auth__PublicStreams</c>: streams anyone may read without a token: names or <c>prefix*</c> patterns, comma-separated.</summary>
    public string? PublicStreams { get; set; }

    /// <summary><c>Auth__CookieName</c>: the cookie that carries a subscriber's token.</summary>
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string CookieName { get; set; } = "bridge_token";

    /// <summary><c>Auth__CookieSameSite</c>: <c>Lax</c> (default), <c>Strict</c>, or <c>None</c> for pages on another site.</summary>
    public Microsoft.AspNetCore.Http.SameSiteMode CookieSameSite { get; set; } = Microsoft.AspNetCore.Http.SameSiteMode.Lax;

    /// <summary>The query parameter that may carry a subscriber's token when nothing else can (RFC 6750's name).</summary>
    public const string QueryParameter = "access_token";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!StreamPatterns.TryParse(PublicStreams, out _, out var error))
        {
            yield return new ValidationResult($"Auth:PublicStreams: {error}", [nameof(PublicStreams)]);
        }

        if (Mode == AuthMode.Open)
        {
            yield break;
        }

        if (SigningKey is null && JwksUrl is null)
        {
            yield return new ValidationResult(
                "Auth:Mode is Jwt (the default), so set Auth:SigningKey (a base64 HS256 key of 32 bytes or more) or Auth:JwksUrl; " +
                "or set Auth:Mode=Open for local development, where anyone may read and publish.");
        }

        foreach (var (name, key) in new[] { (nameof(SigningKey), SigningKey), (nameof(PreviousSigningKey), PreviousSigningKey) })
        {
            if (key is not null && (!TryDecode(key, out var bytes) || bytes.Length < 32))
            {
                yield return new ValidationResult($"Auth:{name} must be base64 for at least 32 bytes (256 bits), as HS256 requires.", [name]);
            }
        }

        if (JwksUrl is { IsAbsoluteUri: false } || (JwksUrl is not null && JwksUrl.Scheme != Uri.UriSchemeHttps && !JwksUrl.IsLoopback))
        {
            yield return new ValidationResult("Auth:JwksUrl must be an absolute https URL (http is allowed for loopback only).", [nameof(JwksUrl)]);
        }

    }

    internal static bool TryDecode(string base64, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(base64);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
