using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Security;

/// <summary>Says at start-up how requests are authorized, loudly when they are not. Never logs a key.</summary>
internal sealed partial class AuthModeNotice(IOptions<AuthOptions> options, ILogger<AuthModeNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var auth = options.Value;
        if (auth.Mode == AuthMode.Open)
        {
            LogOpen();
        }
        else
        {
            LogJwt(
                auth.JwksUrl?.ToString() ?? "none",
                auth.SigningKey is not null,
                auth.PreviousSigningKey is not null,
                string.IsNullOrEmpty(auth.PublicStreams) ? "none" : auth.PublicStreams);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authorization is off (Auth:Mode=Open): anyone who can reach this server may read and publish every stream. Use it only for development.")]
    private partial void LogOpen();

    [LoggerMessage(Level = LogLevel.Information, Message = "Tokens are required (Auth:Mode=Jwt); JWKS: {JwksUrl}, HS256 key: {HasKey}, previous HS256 key: {HasPreviousKey}, public streams: {PublicStreams}")]
    private partial void LogJwt(string jwksUrl, bool hasKey, bool hasPreviousKey, string publicStreams);
}
