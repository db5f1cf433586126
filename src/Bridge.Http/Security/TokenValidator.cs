using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Bridge.Http.Security;

/// <summary>What a valid token grants.</summary>
/// <param name="Subject">Who it was issued to (<c>sub</c>), or a digest of the token when it names nobody.</param>
/// <param name="ExpiresAt">Its <c>exp</c>: no response it opens lasts longer.</param>
/// <param name="Subscribe">The streams it may read (claim <c>bridge.subscribe</c>).</param>
/// <param name="Publish">The streams it may publish to (claim <c>bridge.publish</c>).</param>
public sealed record TokenGrant(string Subject, DateTimeOffset ExpiresAt, StreamPatterns Subscribe, StreamPatterns Publish);

/// <summary>
/// Validates subscriber and publisher JWTs with Microsoft.IdentityModel: a signature by a configured key (HS256 keys
/// from settings, or the keys at the JWKS URL), <c>exp</c> required, <c>nbf</c>, and the issuer and audience when
/// configured. Unsigned tokens (<c>alg: none</c>) are refused.
/// </summary>
public sealed class TokenValidator : IDisposable
{
    /// <summary>The claim listing the streams a token may read.</summary>
    public const string SubscribeClaim = "bridge.subscribe";

    /// <summary>The claim listing the streams a token may publish to.</summary>
    public const string PublishClaim = "bridge.publish";

    private static readonly string[] Algorithms =
    [
        SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512,
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly IReadOnlyList<SecurityKey> _symmetricKeys;
    private readonly JwksKeySource? _jwks;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the validator from the <c>Auth</c> settings.</summary>
    public TokenValidator(IOptions<AuthOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options.Value;
        _time = time;
        _symmetricKeys = [.. new[] { _options.SigningKey, _options.PreviousSigningKey }
            .Where(key => key is not null)
            .Select(key => new SymmetricSecurityKey(Convert.FromBase64String(key!)))];
        _jwks = _options.JwksUrl is { } url
            ? new JwksKeySource(url, TimeSpan.FromMinutes(_options.JwksRefreshMinutes), TimeSpan.FromSeconds(_options.JwksMinRefreshSeconds), time, loggers.CreateLogger<JwksKeySource>())
            : null;
    }

    /// <summary>Validates <paramref name="token"/>. Either the grant or a reason for the client, never both.</summary>
    public async ValueTask<(TokenGrant? Grant, string? Problem)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return (null, "The token is not a well-formed JWT.");
        }

        var keys = _symmetricKeys;
        if (_jwks is not null)
        {
            var keyId = new JsonWebToken(token).Kid;
            keys = [.. keys, .. await _jwks.GetKeysAsync(string.IsNullOrEmpty(keyId) ? null : keyId, cancellationToken).ConfigureAwait(false)];
        }

        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = Algorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(_options.ClockSkewSeconds),
            ValidateIssuer = _options.Issuer is not null,
            ValidIssuer = _options.Issuer,
            ValidateAudience = _options.Audience is not null,
            ValidAudience = _options.Audience,
            ValidateIssuerSigningKey = true,
        }).ConfigureAwait(false);

        if (!result.IsValid)
        {
            return (null, Describe(result.Exception));
        }

        // The clock-skew tolerance lets a token through shortly after its exp; but a response never outlives its token,
        // so such a token could open nothing: it is refused as expired.
        var jwt = (JsonWebToken)result.SecurityToken;
        var expiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        if (expiresAt <= _time.GetUtcNow())
        {
            return (null, "The token has expired.");
        }

        if (!TryReadPatterns(jwt, SubscribeClaim, out var subscribe, out var problem) || !TryReadPatterns(jwt, PublishClaim, out var publish, out problem))
        {
            return (null, problem);
        }

        var subject = string.IsNullOrEmpty(jwt.Subject) ? "token:" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)))[..16] : jwt.Subject;
        return (new TokenGrant(subject, expiresAt, subscribe, publish), null);
    }

    /// <inheritdoc />
    public void Dispose() => _jwks?.Dispose();

    private static bool TryReadPatterns(JsonWebToken jwt, string claim, out StreamPatterns patterns, out string? problem)
    {
        var values = jwt.Claims.Where(c => c.Type == claim).Select(c => c.Value).ToList();
        if (StreamPatterns.TryParse(values, out var parsed, out var error))
        {
            patterns = parsed;
            problem = null;
            return true;
        }

        patterns = StreamPatterns.None;
        problem = $"The token's {claim} claim is not valid: {error}";
        return false;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet (nbf).",
        SecurityTokenNoExpirationException => "The token has no expiry (exp); Bridge requires one.",
        SecurityTokenInvalidAudienceException => "The token is meant for another audience (aud).",
        SecurityTokenInvalidIssuerException => "The token comes from another issuer (iss).",
        SecurityTokenInvalidAlgorithmException => "The token's algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid for any configured key.",
        // The handler reports a token whose parts do not decode as base64url JSON with a bare ArgumentException.
        SecurityTokenMalformedException or ArgumentException => "The token is not a well-formed JWT.",
        SecurityTokenException => "The token is not valid.",
        _ => "The token could not be validated.",
    };
}
