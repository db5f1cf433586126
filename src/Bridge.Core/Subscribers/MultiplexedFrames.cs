using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Bridge.Events;
using Bridge.Sse;

namespace Bridge.Subscribers;

/// <summary>
/// Writes the SSE blocks of several streams into one response. Blocks arrive as each stream encodes them, with the
/// stream's own ids (<c>id: 42.k3m9x2ab</c>); here each event's id becomes the whole subscription's cursor
/// (<see cref="SubscriptionCursor"/>), and a <c>bridge.stream</c> event naming the stream comes before an event whose
/// stream differs from the previous event's. Comments (heartbeats) pass through unchanged.
/// </summary>
/// <remarks>
/// Blocks are read rather than re-encoded because each stream's events are encoded once and shared by every
/// subscriber in the process; only the id line differs per response. Every block Bridge writes ends with a blank line,
/// and an event's block starts with its <c>id:</c> line, so blocks and ids are found without parsing the data.
/// </remarks>
internal sealed class MultiplexedFrames
{
    private readonly IBufferWriter<byte> _output;
    private readonly byte[] _tag;
    private readonly IReadOnlyList<StreamName> _streams;
    private readonly long[] _positions;
    private readonly byte[][] _epochs;
    private readonly byte[]?[] _markers;
    private int _lastLane = -1;
    private ArrayBufferWriter<byte>? _pending;

    public MultiplexedFrames(IBufferWriter<byte> output, SubscriptionCursor cursor)
    {
        _output = output;
        _tag = Encoding.ASCII.GetBytes(cursor.Tag);
        _streams = cursor.Streams;
        _positions = new long[_streams.Count];
        _epochs = new byte[_streams.Count][];
        Array.Fill(_epochs, []);
        _markers = new byte[_streams.Count][];
    }

    /// <summary>
    /// Where a lane's blocks are written before <see cref="Commit"/> rewrites them into the response, while the response
    /// starts (preamble, gap notices, replay). Released by <see cref="ReleasePending"/>: live blocks come encoded.
    /// </summary>
    public IBufferWriter<byte> Pending => _pending ??= new ArrayBufferWriter<byte>(4096);

    /// <summary>Sets where a stream stands before any of its events is written.</summary>
    public void Start(int lane, long position, string epoch)
    {
        _positions[lane] = position;
        _epochs[lane] = Encoding.ASCII.GetBytes(epoch);
    }

    /// <summary>Writes the opening block: the <c>retry:</c> hint and the cursor of every stream's start.</summary>
    public void WritePreamble(int retryMilliseconds)
    {
        var id = new ArrayBufferWriter<byte>(SubscriptionCursor.MaxLength(_positions.Length));
        WriteCursor(id);
        SseFormat.WritePreamble(_output, retryMilliseconds, id.WrittenSpan);
    }

    /// <summary>Rewrites what was written to <see cref="Pending"/> for <paramref name="lane"/> into the response.</summary>
    public void Commit(int lane)
    {
        if (_pending is { WrittenCount: > 0 } pending)
        {
            Write(lane, pending.WrittenSpan);
            pending.ResetWrittenCount();
        }
    }

    public void ReleasePending() => _pending = null;

    /// <summary>Writes whole blocks of <paramref name="lane"/>'s stream, each event with the subscription's cursor as its id.</summary>
    public void Write(int lane, ReadOnlySpan<byte> blocks)
    {
        while (!blocks.IsEmpty)
        {
            var end = blocks.IndexOf("\n\n"u8);
            var block = end < 0 ? blocks : blocks[..(end + 2)];
            blocks = blocks[block.Length..];
            if (!block.StartsWith("id: "u8))
            {
                _output.Write(block);
                continue;
            }

            var idLineEnd = block.IndexOf((byte)'\n');
            Follow(lane, block[4..idLineEnd]);
            if (lane != _lastLane)
            {
                _output.Write(_markers[lane] ??= Marker(_streams[lane]));
                _lastLane = lane;
            }

            _output.Write("id: "u8);
            WriteCursor(_output);
            _output.Write(block[idLineEnd..]);
        }
    }

    /// <summary>Moves the lane's position to an event id as its stream wrote it: <c>{id}</c> or <c>{id}.{epoch}</c>.</summary>
    private void Follow(int lane, ReadOnlySpan<byte> id)
    {
        var dot = id.IndexOf((byte)'.');
        if (!Utf8Parser.TryParse(dot < 0 ? id : id[..dot], out long position, out _))
        {
            throw new InvalidOperationException("An event block's id does not start with a number; blocks must be Bridge's own.");
        }

        _positions[lane] = position;
        var epoch = dot < 0 ? [] : id[(dot + 1)..];
        if (!epoch.SequenceEqual(_epochs[lane]))
        {
            _epochs[lane] = epoch.ToArray();
        }
    }

    private static byte[] Marker(StreamName stream)
    {
        var marker = new ArrayBufferWriter<byte>(64);
        SseFormat.WriteEvent(marker, EventType.StreamMarker, Encoding.ASCII.GetBytes(stream.Value));
        return marker.WrittenSpan.ToArray();
    }

    private void WriteCursor(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(SubscriptionCursor.MaxLength(_positions.Length));
        _tag.CopyTo(span);
        var written = _tag.Length;
        for (var lane = 0; lane < _positions.Length; lane++)
        {
            span[written++] = (byte)SubscriptionCursor.Separator;
            Utf8Formatter.TryFormat(_positions[lane], span[written..], out var digits);
            written += digits;
            if (_epochs[lane].Length > 0)
            {
                span[written++] = (byte)'.';
                _epochs[lane].CopyTo(span[written..]);
                written += _epochs[lane].Length;
            }
        }

        output.Advance(written);
    }
}
