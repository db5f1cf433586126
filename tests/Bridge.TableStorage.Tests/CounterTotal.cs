using System.Diagnostics.Metrics;

namespace Bridge.TableStorage.Tests;

/// <summary>The running total of one counter instance, optionally of the measurements with one tag value.</summary>
internal sealed class CounterTotal : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    private CounterTotal(Counter<long> counter, (string Key, string Value)? tag)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument == counter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tag is not { } wanted || HasTag(tags, wanted))
            {
                Interlocked.Add(ref _total, value);
            }
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public static CounterTotal Of(Counter<long> counter, (string Key, string Value)? tag = null) => new(counter, tag);

    public void Dispose() => _listener.Dispose();

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, (string Key, string Value) wanted)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == wanted.Key && (string?)tag.Value == wanted.Value)
            {
                return true;
            }
        }

        return false;
    }
}
