using Bridge.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Security;

/// <summary>What a request wants to do with a stream.</summary>
public enum StreamAccess
{
    /// <summary>Read it (SSE).</summary>
    Subscribe,

    /// <summary>Append to it.</summary>
    Publish,
}

/// <summary>
/// The outcome of authorizing a request: allowed, with who is asking and until when; or refused (401 for a missing or
/// invalid token, 403 for a stream the token does not cover).
/// </summary>
/// <param name="Principal">Who is asking: the token's subject; null in Open mode.</param>
/// <param name="NotAfter">When the token expires: no response it opens outlives it.</param>
/// <param name="Refusal">Why the request is refused, or null when it is allowed.</param>
public sealed record StreamAuthorization(string? Principal, DateTimeOffset? NotAfter, Refusal? Refusal);

/// <summary>
/// Decides whether a request may subscribe to or publish on a stream.
/// </summary>
/// <remarks>
/// <para>
/// A subscriber's token is taken from the <c>Authorization: Bearer</c> header, else the cookie
/// (<see cref="AuthOptions.CookieName"/>), else the <c>access_token</c> query parameter, because <c>EventSource</c>
/// cannot send headers. A publisher's token is taken from the header only: a cookie would let another site publish
/// in a visitor's name (cross-site request forgery), and a token in a URL leaks too easily.
/// </para>
/// <para>Tokens are never logged.</para>
/// </remarks>
public sealed partial class StreamAuthorizer(
    IOptions<AuthOptions> options,
    TokenValidator validator,
    ILogger<StreamAuthorizer> logger)
{
    private static readonly StreamAuthorization OpenAccess = new(null, null, null);
    private static readonly StreamAuthorization PublicAccess = new("public", null, null);

    private readonly AuthOptions _options = options.Value;
    private readonly StreamPatterns _publicStreams = StreamPatterns.TryParse(options.Value.PublicStreams, out var patterns, out _) ? patterns : StreamPatterns.None;

    /// <summary>Authorizes <paramref name="access"/> to <paramref name="stream"/>.</summary>
    public ValueTask<StreamAuthorization> AuthorizeAsync(HttpContext context, StreamName stream, StreamAccess access) =>
        AuthorizeAsync(context, [stream], access);

    /// <summary>
    /// Authorizes <paramref name="access"/> to every one of <paramref name="streams"/> with one token; a refusal names
    /// the first stream the token does not cover.
    /// </summary>
    public ValueTask<StreamAuthorization> AuthorizeAsync(HttpContext context, IReadOnlyList<StreamName> streams, StreamAccess access)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(streams);
        if (_options.Mode == AuthMode.Open)
        {
            return ValueTask.FromResult(OpenAccess);
        }

        var guarded = access == StreamAccess.Subscribe ? [.. streams.Where(stream => !_publicStreams.Matches(stream))] : streams;
        if (guarded.Count == 0)
        {
            return ValueTask.FromResult(PublicAccess);
        }

        var (token, headerProblem) = ReadToken(context, access);
        if (token is null)
        {
            return ValueTask.FromResult(Refuse(guarded[0], access, new Refusal(Problems.MissingToken, headerProblem ?? MissingToken(access)) { BearerChallenge = Challenge(null) }));
        }

        var validating = validator.ValidateAsync(token, context.RequestAborted);
        return validating.IsCompletedSuccessfully
            ? ValueTask.FromResult(Decide(guarded, access, validating.Result))
            : DecideAsync(guarded, access, validating);
    }

    /// <summary>
    /// Validates the bearer token of a request that wants the token stored in the cookie; returns the token with its
    /// grant, or the reason it was refused.
    /// </summary>
    public async ValueTask<(string? Token, TokenGrant? Grant, string? Problem)> ValidateBearerAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (token, problem) = ReadToken(context, StreamAccess.Publish);
        if (token is null)
        {
            return (null, null, problem ?? "Send the token as Authorization: Bearer <token>.");
        }

        var (grant, invalid) = await validator.ValidateAsync(token, context.RequestAborted).ConfigureAwait(false);
        return (token, grant, invalid);
    }

    /// <summary>The refusal of a token that is not valid: 401 with a challenge saying why (RFC 6750).</summary>
    public static Refusal InvalidToken(string problem) =>
        new(Problems.InvalidToken, problem) { BearerChallenge = Challenge(problem) };

    /// <summary>The <c>WWW-Authenticate</c> challenge of a 401 answer (RFC 6750).</summary>
    private static string Challenge(string? problem) => problem is null
        ? "Bearer realm=\"bridge\""
        : $"Bearer realm=\"bridge\", error=\"invalid_token\", error_description=\"{problem.Replace("\"", "'", StringComparison.Ordinal)}\"";

    private async ValueTask<StreamAuthorization> DecideAsync(IReadOnlyList<StreamName> streams, StreamAccess access, ValueTask<(TokenGrant?, string?)> validating) =>
        Decide(streams, access, await validating.ConfigureAwait(false));

    private StreamAuthorization Decide(IReadOnlyList<StreamName> streams, StreamAccess access, (TokenGrant? Grant, string? Problem) validated)
    {
        if (validated.Grant is not { } grant)
        {
            return Refuse(streams[0], access, InvalidToken(validated.Problem!));
        }

        var (allowed, verb, claim) = access == StreamAccess.Subscribe
            ? (grant.Subscribe, "subscribing to", TokenValidator.SubscribeClaim)
            : (grant.Publish, "publishing to", TokenValidator.PublishClaim);
        foreach (var stream in streams)
        {
            if (!allowed.Matches(stream))
            {
                return Refuse(stream, access, new Refusal(Problems.StreamNotAllowed, $"The token does not allow {verb} stream '{stream}' ({claim})."));
            }
        }

        return new StreamAuthorization(grant.Subject, grant.ExpiresAt, null);
    }

    private (string? Token, string? Problem) ReadToken(HttpContext context, StreamAccess access)
    {
        var header = context.Request.Headers.Authorization;
        if (header.Count > 0)
        {
            var value = header.ToString();
            return value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && value.Length > 7 && header.Count == 1
                ? (value[7..].Trim(), null)
                : (null, "The Authorization header must be exactly one 'Bearer <token>'.");
        }

        if (access == StreamAccess.Publish)
        {
            return (null, null);
        }

        if (context.Request.Cookies.TryGetValue(_options.CookieName, out var cookie) && cookie.Length > 0)
        {
            return (cookie, null);
        }

        var query = context.Request.Query[AuthOptions.QueryParameter];
        return query.Count == 1 && query[0] is { Length: > 0 } fromQuery ? (fromQuery, null) : (null, null);
    }

    private string MissingToken(StreamAccess access) => access == StreamAccess.Subscribe
        ? $"This stream needs a token: send Authorization: Bearer <token>, the {_options.CookieName} cookie (see POST /api/auth/session), or ?{AuthOptions.QueryParameter}=<token>."
        : "Publishing needs a token in the Authorization: Bearer header.";

    private StreamAuthorization Refuse(StreamName stream, StreamAccess access, Refusal refusal)
    {
        LogRefused(access, stream.Value, refusal.Problem.Status, refusal.Detail);
        return new StreamAuthorization(null, null, refusal);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused {Access} on stream {Stream} ({Status}): {Reason}")]
    private partial void LogRefused(StreamAccess access, string stream, int status, string? reason);
}
