using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Bridge.Http.Security;

/// <summary>
/// The signing keys published at a JWKS URL, read on first use, again every refresh interval, and again at once
/// (at most every <paramref name="unknownKeyRefreshFloor"/>) when a token names a key id not yet known: that is how a
/// key rotation at the issuer is picked up. When a refresh fails, the keys already known are kept.
/// </summary>
internal sealed partial class JwksKeySource(Uri url, TimeSpan refreshInterval, TimeSpan unknownKeyRefreshFloor, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private long? _fetchedTimestamp;

    public async ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var due = _fetchedTimestamp is not { } fetched ||
                  time.GetElapsedTime(fetched) >= refreshInterval ||
                  (keyId is not null && !_keys.Any(key => key.KeyId == keyId) && time.GetElapsedTime(fetched) >= unknownKeyRefreshFloor);
        if (due)
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        return _keys;
    }

    public void Dispose()
    {
        _http.Dispose();
        _refreshing.Dispose();
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var started = _fetchedTimestamp;
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_fetchedTimestamp != started)
            {
                return; // Another caller refreshed while this one waited.
            }

            var json = await _http.GetStringAsync(url, cancellationToken).ConfigureAwait(false);
            _keys = [.. new JsonWebKeySet(json).GetSigningKeys()];
            LogRefreshed(url, _keys.Count);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or ArgumentException)
        {
            LogRefreshFailed(exception, url);
        }
        finally
        {
            _fetchedTimestamp = time.GetTimestamp();
            _refreshing.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Read {Count} signing key(s) from {JwksUrl}")]
    private partial void LogRefreshed(Uri jwksUrl, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the signing keys at {JwksUrl}; the keys already known stay in use")]
    private partial void LogRefreshFailed(Exception exception, Uri jwksUrl);
}
