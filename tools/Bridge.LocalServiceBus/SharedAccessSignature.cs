using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Bridge.LocalServiceBus;

/// <summary>
/// Checks a Service Bus shared access signature, <c>SharedAccessSignature sr=…&amp;sig=…&amp;se=…&amp;skn=…</c>: the
/// signature is base64(HMAC-SHA256(key, url-encoded sr + "\n" + se)) with the key named by <c>skn</c>.
/// </summary>
internal sealed class SharedAccessSignature(string keyName, string key)
{
    /// <summary>What the token grants (its audience, <c>sr</c>, until it expires), or why it is refused.</summary>
    public (Grant? Grant, string? Problem) Validate(string? token, DateTimeOffset now)
    {
        const string Prefix = "SharedAccessSignature ";
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return (null, "The token is not a shared access signature.");
        }

        // The signature covers sr exactly as the client encoded it; SDKs differ in how they percent-encode, so it is
        // checked raw rather than decoded and encoded again.
        var fields = token[Prefix.Length..].Split('&').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var (encodedAudience, signature, expiry, name) = (fields.GetValueOrDefault("sr"), Decoded(fields.GetValueOrDefault("sig")), fields.GetValueOrDefault("se"), Decoded(fields.GetValueOrDefault("skn")));
        if (encodedAudience is null || signature is null || expiry is null || name is null)
        {
            return (null, "The shared access signature lacks sr, sig, se or skn.");
        }

        if (name != keyName)
        {
            return (null, $"The key '{name}' is not known here.");
        }

        if (!long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || DateTimeOffset.FromUnixTimeSeconds(seconds) is var expiresAt && expiresAt <= now)
        {
            return (null, "The shared access signature has expired.");
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{encodedAudience}\n{expiry}"));
        var given = new byte[expected.Length];
        return Convert.TryFromBase64String(signature, given, out var length) && length == given.Length && CryptographicOperations.FixedTimeEquals(expected, given)
            ? (new Grant(Uri.UnescapeDataString(encodedAudience), expiresAt), null)
            : (null, "The signature does not match the key.");
    }

    private static string? Decoded(string? value) => value is null ? null : Uri.UnescapeDataString(value);
}

/// <summary>Access to every entity whose address starts with <see cref="Audience"/>, until <see cref="ExpiresAt"/>.</summary>
internal sealed record Grant(string Audience, DateTimeOffset ExpiresAt);
