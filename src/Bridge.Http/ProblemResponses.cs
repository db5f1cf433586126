using Microsoft.AspNetCore.Http;

namespace Bridge.Http;

/// <summary>Turns a <see cref="Refusal"/> into an RFC 9457 problem response: the one place refusals become HTTP.</summary>
public static class ProblemResponses
{
    /// <summary>The response for <paramref name="refusal"/>: its status, the headers it calls for, and its problem details.</summary>
    public static IResult ToResult(this Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return new RefusalResult(refusal);
    }

    /// <summary>Writes the response for <paramref name="refusal"/>.</summary>
    public static Task WriteAsync(HttpContext context, Refusal refusal) => refusal.ToResult().ExecuteAsync(context);

    private sealed class RefusalResult(Refusal refusal) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            var headers = httpContext.Response.Headers;
            if (refusal.RetryAfterSeconds is { } seconds)
            {
                headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (refusal.BearerChallenge is { } challenge)
            {
                headers.WWWAuthenticate = challenge;
            }

            var problem = refusal.Problem;
            return TypedResults.Problem(
                    detail: refusal.Detail,
                    statusCode: problem.Status,
                    title: problem.Title,
                    type: problem.Uri,
                    extensions: refusal.Errors is { } errors ? new Dictionary<string, object?> { ["errors"] = errors } : null)
                .ExecuteAsync(httpContext);
        }
    }
}
