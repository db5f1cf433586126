using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Bridge.Telemetry;

/// <summary>
/// Bridge's metrics, on the <see cref="MeterName"/> meter, named by OpenTelemetry's conventions with a <c>bridge.</c>
/// prefix. Any OpenTelemetry exporter can read them; docs/operations.md lists each with its unit and meaning.
/// </summary>
public sealed class BridgeMetrics
{
    /// <summary>The meter's name, to add to an OpenTelemetry metrics pipeline.</summary>
    public const string MeterName = "Bridge";

    /// <summary>The activity source's name, to add to an OpenTelemetry tracing pipeline.</summary>
    public const string ActivitySourceName = "Bridge";

    /// <summary>Spans for publishing, ingesting and replaying.</summary>
    public static ActivitySource Activities { get; } = new(ActivitySourceName);

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, as a service container does.</summary>
    public BridgeMetrics(IMeterFactory meterFactory)
        : this((meterFactory ?? throw new ArgumentNullException(nameof(meterFactory))).Create(MeterName))
    {
    }

    /// <summary>Creates the instruments on a meter of their own, for code that builds Bridge without a service container.</summary>
    public BridgeMetrics()
        : this(new Meter(MeterName))
    {
    }

    /// <summary>
    /// Bucket bounds for durations in seconds, from 1 ms to 10 s, as OpenTelemetry's semantic conventions advise for
    /// HTTP durations: without them exporters use their defaults, which are meant for milliseconds (0, 5, 10, 25…), so
    /// every publish lands in the first bucket and a viewer reports its p50 as 5 s.
    /// </summary>
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    private BridgeMetrics(Meter meter)
    {
        OpenSubscribers = meter.CreateUpDownCounter<long>("bridge.subscribers.open", "{subscriber}", "SSE responses open in this process.");
        EventsAppended = meter.CreateCounter<long>("bridge.events.appended", "{event}", "Events stored (duplicates not counted).");
        AppendsRefused = meter.CreateCounter<long>("bridge.appends.refused", "{request}", "Publish requests refused, by reason (the problem type).");
        EventsPruned = meter.CreateCounter<long>("bridge.events.pruned", "{event}", "Events removed by retention.");
        ReplayedRows = meter.CreateCounter<long>("bridge.replay.rows", "{event}", "Events read from storage to replay them to a client.");
        EventsDelivered = meter.CreateCounter<long>("bridge.events.delivered", "{event}", "Events written to clients, replayed or live.");
        SubscribersDropped = meter.CreateCounter<long>("bridge.subscribers.dropped", "{subscriber}", "Responses cut off because the client read too slowly.");
        TailPolls = meter.CreateCounter<long>("bridge.tail.polls", "{poll}", "Reads of a stream's head by its tail, one per stream per interval.");
        StorageTransactions = meter.CreateCounter<long>("bridge.storage.transactions", "{transaction}", "Requests to Table storage, by kind.");
        ServiceBusMessages = meter.CreateCounter<long>("bridge.servicebus.messages", "{message}", "Service Bus messages settled, by outcome.");
        PublishDuration = meter.CreateHistogram("bridge.publish.duration", "s", "Time to store a publish call's events.", tags: null, SecondsBuckets);
        DeliveryDelay = meter.CreateHistogram("bridge.delivery.delay", "s", "From an event's commit to its fan-out to this process's clients.", tags: null, SecondsBuckets);
    }

    /// <summary><c>bridge.events.pruned</c>.</summary>
    public Counter<long> EventsPruned { get; }

    /// <summary><c>bridge.subscribers.open</c>.</summary>
    public UpDownCounter<long> OpenSubscribers { get; }

    /// <summary><c>bridge.events.appended</c>.</summary>
    public Counter<long> EventsAppended { get; }

    /// <summary><c>bridge.appends.refused</c>, with the tag <c>reason</c>.</summary>
    public Counter<long> AppendsRefused { get; }

    /// <summary><c>bridge.replay.rows</c>.</summary>
    public Counter<long> ReplayedRows { get; }

    /// <summary><c>bridge.events.delivered</c>.</summary>
    public Counter<long> EventsDelivered { get; }

    /// <summary><c>bridge.subscribers.dropped</c>, with the tag <c>reason</c>.</summary>
    public Counter<long> SubscribersDropped { get; }

    /// <summary><c>bridge.tail.polls</c>.</summary>
    public Counter<long> TailPolls { get; }

    /// <summary><c>bridge.storage.transactions</c>, with the tag <c>kind</c>.</summary>
    public Counter<long> StorageTransactions { get; }

    /// <summary><c>bridge.servicebus.messages</c>, with the tag <c>outcome</c>.</summary>
    public Counter<long> ServiceBusMessages { get; }

    /// <summary><c>bridge.publish.duration</c>.</summary>
    public Histogram<double> PublishDuration { get; }

    /// <summary><c>bridge.delivery.delay</c>.</summary>
    public Histogram<double> DeliveryDelay { get; }
}
