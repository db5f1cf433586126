using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Bridge.TableStorage;

/// <summary>
/// The idempotency keys of a stream's most recent events, held by the stream's writer so that it can recognise a
/// repeated key without a storage read. It is rebuilt from the event rows, where the keys are persisted.
/// </summary>
/// <remarks>
/// Keys are kept as 128-bit prefixes of their SHA-256, so memory per key is fixed whatever the key's length, and two
/// different keys colliding is not a practical concern (about 1 in 10^29 for 100,000 keys).
/// </remarks>
internal sealed class IdempotencyWindow(int capacityInEvents)
{
    private readonly Dictionary<UInt128, long> _idsByKey = [];
    private readonly Queue<(long Id, UInt128 Key)> _byAge = new();

    public int Count => _idsByKey.Count;

    public bool TryGetId(string key, out long id) => _idsByKey.TryGetValue(Digest(key), out id);

    public void Remember(string key, long id)
    {
        var digest = Digest(key);
        _idsByKey[digest] = id;
        _byAge.Enqueue((id, digest));
    }

    /// <summary>Forgets the keys of events that fell out of the window now that the stream ends at <paramref name="lastId"/>.</summary>
    public void Slide(long lastId)
    {
        while (_byAge.TryPeek(out var oldest) && oldest.Id <= lastId - capacityInEvents)
        {
            _byAge.Dequeue();
            if (_idsByKey.TryGetValue(oldest.Key, out var id) && id == oldest.Id)
            {
                _idsByKey.Remove(oldest.Key);
            }
        }
    }

    public void Clear()
    {
        _idsByKey.Clear();
        _byAge.Clear();
    }

    private static UInt128 Digest(string key)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> utf8 = maxBytes <= 1024 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
