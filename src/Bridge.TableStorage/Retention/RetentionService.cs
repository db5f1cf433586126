using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.TableStorage.Retention;

/// <summary>
/// Prunes, every <see cref="RetentionOptions.PruneIntervalSeconds"/>, the streams this instance appended to or read
/// since the last round. With no limit configured it does nothing at all.
/// </summary>
internal sealed partial class RetentionService(
    TableEventLog log,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<RetentionService> logger) : BackgroundService
{
    private readonly RetentionOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.LimitsAnything)
        {
            return;
        }

        log.TrackStreamsUsed();
        using var rounds = new PeriodicTimer(TimeSpan.FromSeconds(_options.PruneIntervalSeconds), time);
        while (await rounds.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await PruneRoundAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>One round over the streams used since the last; a stream that fails is logged and tried next round.</summary>
    internal async Task PruneRoundAsync(CancellationToken cancellationToken)
    {
        foreach (var stream in log.TakeStreamsUsed())
        {
            var rule = _options.RuleFor(stream);
            if (rule.KeepsEverything)
            {
                continue;
            }

            try
            {
                var pruned = await log.PruneAsync(stream, rule, cancellationToken).ConfigureAwait(false);
                if (pruned > 0)
                {
                    LogPruned(stream.Value, pruned);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Storage being unavailable is the usual cause; whatever it is, pruning must not stop the host, which
                // is what an exception escaping a background service does.
                LogPruneFailed(exception, stream.Value);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention pruned {Events} events of stream {Stream}")]
    private partial void LogPruned(string stream, int events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning stream {Stream} failed; it is tried again next round")]
    private partial void LogPruneFailed(Exception exception, string stream);
}
