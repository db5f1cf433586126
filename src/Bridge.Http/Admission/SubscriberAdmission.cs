using System.Collections.Concurrent;
using Bridge.Http.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Admission;

/// <summary>
/// Counts open SSE responses, in all and per client address, and refuses new ones past the limits. A slot is taken
/// before the response starts and given back when it ends.
/// </summary>
public sealed class SubscriberAdmission(IOptions<LimitsOptions> options)
{
    private readonly LimitsOptions _limits = options.Value;
    private readonly ConcurrentDictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Open SSE responses in this process.</summary>
    public int Open => Volatile.Read(ref _total);

    /// <summary>Takes a slot for <paramref name="context"/>'s client, or says why it may not have one.</summary>
    public (IDisposable? Slot, Refusal? Refusal) TryAdmit(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Interlocked.Increment(ref _total) > _limits.MaxSubscribers)
        {
            Interlocked.Decrement(ref _total);
            return (null, new Refusal(
                Problems.TooManySubscribers,
                $"This process already serves {_limits.MaxSubscribers} streams ({LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxSubscribers)}). Retry later, when another instance or this one has room.")
            {
                RetryAfterSeconds = _limits.RetryAfterSeconds,
            });
        }

        var client = ClientAddress.Of(context, _limits.TrustForwardedFor);
        if (_perClient.AddOrUpdate(client, 1, (_, open) => open + 1) > _limits.MaxSubscribersPerClient)
        {
            Release(client);
            return (null, new Refusal(
                Problems.TooManySubscribersPerClient,
                $"A client address may hold {_limits.MaxSubscribersPerClient} streams at once here ({LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxSubscribersPerClient)}); close some first.")
            {
                RetryAfterSeconds = _limits.RetryAfterSeconds,
            });
        }

        return (new Slot(this, client), null);
    }

    private void Release(string client)
    {
        Interlocked.Decrement(ref _total);
        while (_perClient.TryGetValue(client, out var open))
        {
            if (open <= 1 ? _perClient.TryRemove(KeyValuePair.Create(client, open)) : _perClient.TryUpdate(client, open - 1, open))
            {
                return;
            }
        }
    }

    private sealed class Slot(SubscriberAdmission admission, string client) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                admission.Release(client);
            }
        }
    }
}
