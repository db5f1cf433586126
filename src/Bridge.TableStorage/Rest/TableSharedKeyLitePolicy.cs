using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Bridge.TableStorage.Rest;

/// <summary>
/// Signs each request with the Table service's SharedKeyLite scheme. It runs once per retry, because the signature
/// covers <c>x-ms-date</c>.
/// </summary>
/// <remarks>
/// String to sign: <c>x-ms-date</c>, a newline, then <c>/account</c> followed by the encoded request path. For
/// path-style endpoints (Azurite) the path already starts with the account, so the account appears twice; that is
/// the documented rule.
/// </remarks>
internal sealed class TableSharedKeyLitePolicy(AzureNamedKeyCredential credential) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var date = DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture);
        message.Request.Headers.SetValue("x-ms-date", date);

        var (accountName, accountKey) = credential;
        var uri = message.Request.Uri.ToUri();
        var resource = "/" + accountName + uri.AbsolutePath;
        var comp = QueryValue(uri.Query, "comp");
        if (comp is not null)
        {
            resource += "?comp=" + comp;
        }

        var signature = Convert.ToBase64String(
            HMACSHA256.HashData(Convert.FromBase64String(accountKey), Encoding.UTF8.GetBytes(date + "\n" + resource)));
        message.Request.Headers.SetValue("Authorization", $"SharedKeyLite {accountName}:{signature}");
    }

    private static string? QueryValue(string query, string name)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && pair.AsSpan(0, equals).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(pair[(equals + 1)..]);
            }
        }

        return null;
    }
}
