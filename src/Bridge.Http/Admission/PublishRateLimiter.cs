using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Admission;

/// <summary>A token bucket per publisher (its token's subject, or its address in Open mode).</summary>
public sealed class PublishRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly LimitsOptions _limits;

    public PublishRateLimiter(IOptions<LimitsOptions> options)
    {
        _limits = options.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(publisher => RateLimitPartition.GetTokenBucketLimiter(publisher, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _limits.PublishBurst,
            TokensPerPeriod = _limits.PublishRequestsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Takes one request's permit for <paramref name="publisher"/>, or says when to come back.</summary>
    public Refusal? TryAcquire(string publisher)
    {
        using var lease = _limiter.AttemptAcquire(publisher);
        if (lease.IsAcquired)
        {
            return null;
        }

        return new Refusal(
            Problems.PublishRateExceeded,
            $"A publisher may send {_limits.PublishRequestsPerSecond} publish requests per second here, in bursts of up to {_limits.PublishBurst} " +
            $"({LimitsOptions.SectionName}:{nameof(LimitsOptions.PublishRequestsPerSecond)}, {LimitsOptions.SectionName}:{nameof(LimitsOptions.PublishBurst)}). Retry after the Retry-After delay.")
        {
            RetryAfterSeconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : _limits.RetryAfterSeconds,
        };
    }

    public void Dispose() => _limiter.Dispose();
}
