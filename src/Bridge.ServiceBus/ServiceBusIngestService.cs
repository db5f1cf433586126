using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.ServiceBus;

/// <summary>
/// Runs <see cref="ServiceBusIngestOptions.Receivers"/> receive loops on the subscription for the life of the host.
/// Registered after the engine, it stops before it: receiving ends, the batches in flight are stored and settled, and
/// only then do the hub and the event log stop.
/// </summary>
internal sealed partial class ServiceBusIngestService(IServiceProvider services, IOptions<ServiceBusIngestOptions> options, IngestSource source, ILogger<ServiceBusIngestService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!source.Enabled)
        {
            LogOff();
            return;
        }

        var settings = options.Value;
        LogStarting(source.ToString(), settings.Receivers, settings.Sessions);
        await Task.WhenAll(Enumerable.Range(0, settings.Receivers)
            .Select(_ => ActivatorUtilities.CreateInstance<SubscriptionReceiver>(services, settings).RunAsync(stoppingToken))).ConfigureAwait(false);
        LogStopped(source.ToString());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingesting from Service Bus {Source} with {Receivers} receiver(s); sessions: {Sessions}")]
    private partial void LogStarting(string source, int receivers, bool sessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Service Bus ingest is off: ServiceBusConnection is not set, so events arrive over HTTP only")]
    private partial void LogOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped ingesting from {Source}; every batch taken was settled")]
    private partial void LogStopped(string source);
}
