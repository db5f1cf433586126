using System.Net;
using Microsoft.AspNetCore.Http;

namespace Bridge.Http.Requests;

/// <summary>Who is at the other end of a request, for per-client limits.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The client's address: the connection's remote address, or with <paramref name="trustForwardedFor"/> the last
    /// address in <c>X-Forwarded-For</c>, without its port.
    /// </summary>
    /// <remarks>
    /// The last entry is the one the trusted proxy in front of us appended; every entry before it came from the client,
    /// which could write anything there. Azure's front end appends <c>address:port</c>, and the port changes with each
    /// connection, so it is dropped.
    /// </remarks>
    public static string Of(HttpContext context, bool trustForwardedFor)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (trustForwardedFor
            && context.Request.Headers["X-Forwarded-For"].ToString() is { Length: > 0 } forwarded
            && IPEndPoint.TryParse(forwarded[(forwarded.LastIndexOf(',') + 1)..].Trim(), out var proxySaw))
        {
            return proxySaw.Address.ToString();
        }

        return context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }
}
