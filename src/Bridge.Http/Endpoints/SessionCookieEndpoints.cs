using Bridge.Http.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>POST</c> and <c>DELETE auth/session</c>: the subscriber cookie, for browsers whose <c>EventSource</c> cannot send
/// headers. The cookie is HttpOnly, Secure, of the configured SameSite, on path <c>/api</c>, and expires with the token.
/// </summary>
public sealed class SessionCookieEndpoints(StreamAuthorizer authorizer, IOptions<AuthOptions> options)
{
    private readonly AuthOptions _auth = options.Value;

    /// <summary>
    /// Stores the request's bearer token in the cookie. Call it again with a fresh token before the old one expires.
    /// 204 when stored; 401 when the token is not valid. In Open mode there is nothing to store and the answer is 204.
    /// </summary>
    public async Task CreateAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_auth.Mode == AuthMode.Open)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var (token, grant, problem) = await authorizer.ValidateBearerAsync(context).ConfigureAwait(false);
        if (token is null || grant is null)
        {
            await ProblemResponses.WriteAsync(context, StreamAuthorizer.InvalidToken(problem!)).ConfigureAwait(false);
            return;
        }

        context.Response.Cookies.Append(_auth.CookieName, token, Cookie(grant.ExpiresAt));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Removes the cookie (sign-out). 204.</summary>
    public Task DeleteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(_auth.CookieName, Cookie(expires: null));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private CookieOptions Cookie(DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = _auth.CookieSameSite,
        Path = "/" + BridgeRoutes.Prefix,
        Expires = expires,
        IsEssential = true,
    };
}
