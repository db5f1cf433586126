using Bridge.Events;
using Microsoft.AspNetCore.Http;

namespace Bridge.Http.Requests;

/// <summary>The <c>Idempotency-Key</c> request header, which makes a publish idempotent.</summary>
public static class IdempotencyKeyHeader
{
    /// <summary>The header's name.</summary>
    public const string Name = "Idempotency-Key";

    /// <summary>The key, if the header was sent (null when not); or why it is not valid.</summary>
    public static (IdempotencyKey? Key, Refusal? Refusal) Read(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Headers[Name];
        if (values.Count == 0)
        {
            return (null, null);
        }

        if (values.Count > 1)
        {
            return (null, new Refusal(Problems.InvalidIdempotencyKey, $"Send the {Name} header once."));
        }

        // The IETF draft sends the key as a structured-field string ("…"); most clients send it bare. Both mean the same.
        var text = values[0] is { Length: >= 2 } value && value[0] == '"' && value[^1] == '"' ? value[1..^1] : values[0];
        return IdempotencyKey.TryParse(text, out var key, out var error)
            ? (key, null)
            : (null, new Refusal(Problems.InvalidIdempotencyKey, error));
    }
}
