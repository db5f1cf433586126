using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Bridge.Testing;

/// <summary>Makes JWTs for tests, good and bad, with the real token handler.</summary>
public static class TestTokens
{
    public const string Issuer = "https://issuer.bridge.test";
    public const string Audience = "bridge-tests";

    /// <summary>The HS256 key the test servers trust (new for every test run).</summary>
    public static string Key { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Settings that make a server require tokens signed with <see cref="Key"/>.</summary>
    public static Dictionary<string, string?> RequireTokens(string? publicStreams = null) => new()
    {
        ["Auth:Mode"] = "Jwt",
        ["Auth:SigningKey"] = Key,
        ["Auth:Issuer"] = Issuer,
        ["Auth:Audience"] = Audience,
        ["Auth:ClockSkewSeconds"] = "0",
        ["Auth:PublicStreams"] = publicStreams,
    };

    /// <summary>The same settings as environment variables, for server processes.</summary>
    public static Dictionary<string, string> RequireTokensEnvironment(string? publicStreams = null) =>
        RequireTokens(publicStreams).Where(pair => pair.Value is not null).ToDictionary(pair => pair.Key.Replace(":", "__", StringComparison.Ordinal), pair => pair.Value!);

    public static string Create(
        IEnumerable<string>? subscribe = null,
        IEnumerable<string>? publish = null,
        TimeSpan? lifetime = null,
        DateTimeOffset? notBefore = null,
        string? key = null,
        string? issuer = Issuer,
        string? audience = Audience,
        string? subject = "tester",
        bool expires = true,
        SigningCredentials? credentials = null,
        IDictionary<string, object>? header = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>();
        if (subscribe is not null)
        {
            claims["bridge.subscribe"] = subscribe.ToArray();
        }

        if (publish is not null)
        {
            claims["bridge.publish"] = publish.ToArray();
        }

        if (subject is not null)
        {
            claims["sub"] = subject;
        }

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = notBefore?.UtcDateTime,
            Expires = expires ? now + (lifetime ?? TimeSpan.FromMinutes(10)) : null,
            Claims = claims,
            AdditionalHeaderClaims = header,
            SigningCredentials = credentials ?? new SigningCredentials(
                new SymmetricSecurityKey(Convert.FromBase64String(key ?? Key)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A token that claims everything and is not signed at all (<c>alg: none</c>).</summary>
    public static string WithoutSignature(IEnumerable<string> subscribe)
    {
        static string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var streams = string.Join(",", subscribe.Select(s => $"\"{s}\""));
        return Encode("""{"alg":"none","typ":"JWT"}""") + "." +
               Encode($$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}},"bridge.subscribe":[{{streams}}],"bridge.publish":[{{streams}}]}""") + ".";
    }
}
