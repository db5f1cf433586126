using System.Runtime.CompilerServices;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace Bridge.LocalServiceBus;

/// <summary>
/// The <c>$cbs</c> node: clients put a shared access signature for each entity before they attach a link to it. A
/// signature made with a wrong key is answered 401, which the SDKs raise as <see cref="UnauthorizedAccessException"/>.
/// Grants are kept per connection, as Service Bus keeps them.
/// </summary>
internal sealed class ClaimsBasedSecurity(SharedAccessSignature signature, TimeProvider clock)
{
    private readonly ConditionalWeakTable<AmqpConnection, List<Grant>> _grants = [];

    public AmqpMessage Answer(AmqpMessage request, AmqpConnection connection)
    {
        var properties = request.ApplicationProperties.Map;
        if (!properties.TryGetValue<string>("operation", out var operation) || operation != "put-token")
        {
            return Response(400, $"The operation '{operation}' is not supported on $cbs; only put-token is.");
        }

        if (!properties.TryGetValue<string>("type", out var type) || type != "servicebus.windows.net:sastoken")
        {
            return Response(401, $"The token type '{type}' is not accepted here: use a shared access signature (see tools/Bridge.LocalServiceBus/README.md).");
        }

        var (grant, problem) = signature.Validate(request.ValueBody?.Value as string, clock.GetUtcNow());
        if (grant is null)
        {
            return Response(401, $"InvalidSignature: {problem}");
        }

        var grants = _grants.GetOrCreateValue(connection);
        lock (grants)
        {
            grants.Add(grant);
        }

        return Response(202, "Accepted");
    }

    /// <summary>Whether the connection holds a live grant whose audience covers the entity.</summary>
    public bool IsAuthorized(AmqpConnection connection, string entityPath)
    {
        if (!_grants.TryGetValue(connection, out var grants))
        {
            return false;
        }

        var now = clock.GetUtcNow();
        lock (grants)
        {
            // Only the path is compared: SDKs name the same endpoint with sb://, amqp:// or https:// and with or without a port.
            return grants.Any(g => g.ExpiresAt > now && entityPath.StartsWith(PathOf(g.Audience), StringComparison.OrdinalIgnoreCase));
        }
    }

    private static string PathOf(string audience) =>
        Uri.TryCreate(audience, UriKind.Absolute, out var uri) ? uri.AbsolutePath.Trim('/') : audience.Trim('/');

    private static AmqpMessage Response(int statusCode, string description)
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties.Map["status-code"] = statusCode;
        response.ApplicationProperties.Map["status-description"] = description;
        return response;
    }
}
