using Bridge.Events;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bridge.TableStorage.Tests;

/// <summary>Builds real event logs on Azurite. Each instance has its own client and writer state, like a process.</summary>
internal static class EventLogs
{
    public static TableEventLog Create(string connectionString, string table, int windowEvents = 100_000, Bridge.Telemetry.BridgeMetrics? metrics = null, TimeProvider? time = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(50);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        return new TableEventLog(
            new TableServiceClient(connectionString, clientOptions),
            Options.Create(new TableEventLogOptions { EventsTable = table, IdempotencyWindowEvents = windowEvents }),
            time ?? TimeProvider.System,
            NullLogger<TableEventLog>.Instance,
            metrics ?? new Bridge.Telemetry.BridgeMetrics());
    }

    public static NewEvent Text(string text, string? key = null, string? type = null) =>
        new(EventType.Parse(type), System.Text.Encoding.UTF8.GetBytes(text), key is null ? null : IdempotencyKey.Parse(key));

    public static async Task<List<StoredEvent>> ReadAllAsync(IEventLog log, StreamName stream)
    {
        var last = (await log.GetHeadAsync(stream)).LastId;
        var all = new List<StoredEvent>();
        await foreach (var page in log.ReadAsync(stream, 0, last))
        {
            all.AddRange(page);
        }

        return all;
    }
}
