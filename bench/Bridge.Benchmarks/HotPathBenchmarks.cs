using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Bridge.Events;
using Bridge.Sse;
using Bridge.Hub;
using Bridge.Subscribers;
using Bridge.TableStorage;

namespace Bridge.Benchmarks;

/// <summary>SSE framing: done once per event per process for live delivery, and per event per client on replay.</summary>
[MemoryDiagnoser]
public class SseFramingBenchmarks
{
    /// <summary>An epoch name as a stream created today has one.</summary>
    internal const string Epoch = "k3m9x2ab";

    private readonly ArrayBufferWriter<byte> _output = new(128 * 1024);
    private readonly EventType _type = EventType.Parse("order.created");
    private byte[] _small = [];
    private byte[] _multiline = [];
    private byte[] _large = [];

    [GlobalSetup]
    public void Setup()
    {
        _small = Encoding.UTF8.GetBytes("{\"order\":12345,\"status\":\"created\",\"total\":99.5}");
        _multiline = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 20).Select(i => $"line {i} of a multi-line payload")));
        _large = Encoding.UTF8.GetBytes(new string('x', 64 * 1024));
    }

    [Benchmark(Baseline = true)]
    public int SmallEvent()
    {
        _output.ResetWrittenCount();
        SseFormat.WriteEvent(_output, 123_456, Epoch, _type, _small);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int MultiLineEvent()
    {
        _output.ResetWrittenCount();
        SseFormat.WriteEvent(_output, 123_456, Epoch, _type, _multiline);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int LargeEvent()
    {
        _output.ResetWrittenCount();
        SseFormat.WriteEvent(_output, 123_456, Epoch, EventType.Message, _large);
        return _output.WrittenCount;
    }
}

/// <summary>Work done once per connection (cursor) or once per event per process (encoding for fan-out, storage).</summary>
[MemoryDiagnoser]
public class EventPathBenchmarks
{
    private readonly StreamName _stream = StreamName.Parse("orders");
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private NewEvent _newEvent = null!;
    private StoredEvent[] _run = [];
    private IdempotencyWindow _window = null!;
    private string _presentKey = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var data = new byte[200];
        Array.Fill(data, (byte)'x');
        _newEvent = new NewEvent(EventType.Message, data, IdempotencyKey.Parse(Guid.NewGuid().ToString()));
        _run = [.. Enumerable.Range(1, 99).Select(i => new StoredEvent(i, EventType.Message, data, _now, null))];
        _window = new IdempotencyWindow(100_000);
        for (var i = 0; i < 100_000; i++)
        {
            _window.Remember($"key-{i}", i);
        }

        _presentKey = "key-54321";
    }

    [Benchmark]
    public long? ParseCursor() => StreamCursor.From("1234567", null).Position;

    [Benchmark]
    public string? ParseMalformedCursor() => StreamCursor.From(null, "not-a-cursor").Malformed;

    [Benchmark]
    public string EncodeEventEntity() => EventRows.Encode(_stream, 123_456, _newEvent, _now, null).RowKey;

    [Benchmark]
    public int EncodeRunOf99ForFanOut() => EncodedEvents.Encode(_run, SseFramingBenchmarks.Epoch).Frames.Length;

    [Benchmark]
    public bool KeyWindowHit() => _window.TryGetId(_presentKey, out _);

    [Benchmark]
    public bool KeyWindowMiss() => _window.TryGetId("a-key-never-seen", out _);
}
