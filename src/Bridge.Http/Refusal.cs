namespace Bridge.Http;

/// <summary>
/// A decision to refuse a request, as the classes that decide (token checks, admission, limits, request parsing)
/// return it: which problem, why, and what the client may do about it. <see cref="ProblemResponses"/> turns it into
/// the status, headers and body, in one place.
/// </summary>
/// <param name="Problem">The kind of problem.</param>
/// <param name="Detail">What is wrong with this request, for the client.</param>
public sealed record Refusal(ProblemType Problem, string Detail)
{
    /// <summary>Seconds after which a retry may succeed: the <c>Retry-After</c> header.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>The <c>WWW-Authenticate</c> challenge of a 401 (RFC 6750).</summary>
    public string? BearerChallenge { get; init; }

    /// <summary>Which fields of the request are wrong, and why: the problem's <c>errors</c> member.</summary>
    public IDictionary<string, string[]>? Errors { get; init; }
}
