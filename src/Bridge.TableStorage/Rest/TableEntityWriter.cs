using System.Buffers;
using System.Text.Json;

namespace Bridge.TableStorage.Rest;

/// <summary>
/// Writes one entity as the Table service's JSON, checking Azure's limits as it goes: keys, each property, the
/// number of properties and the entity's total size.
/// </summary>
/// <remarks>
/// The size is counted the way Azure documents it: 4 bytes, plus 2 per key character, plus for each property 8 bytes,
/// 2 per name character and the value (a string 4 + 2 per character, binary 4 + its length, Int64 and DateTime 8,
/// Guid 16).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The JSON writer writes to a managed buffer and is disposed by ToEntity; a builder should not need using.")]
public sealed class TableEntityWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _json;
    private readonly string _partitionKey;
    private readonly string _rowKey;
    private int _size;
    private int _properties;

    /// <summary>Starts an entity.</summary>
    /// <exception cref="TableLimitExceededException">A key is too long or holds a character Azure forbids.</exception>
    public TableEntityWriter(string partitionKey, string rowKey)
    {
        CheckKey(nameof(partitionKey), partitionKey);
        CheckKey(nameof(rowKey), rowKey);
        _partitionKey = partitionKey;
        _rowKey = rowKey;
        _size = 4 + ((partitionKey.Length + rowKey.Length) * 2);
        _json = new Utf8JsonWriter(_buffer);
        _json.WriteStartObject();
        _json.WriteString("PartitionKey", partitionKey);
        _json.WriteString("RowKey", rowKey);
    }

    /// <summary>Adds a string property.</summary>
    public TableEntityWriter WriteString(string name, string value)
    {
        if (value.Length > TableLimits.MaxStringPropertyChars)
        {
            throw new TableLimitExceededException(
                $"Property '{name}' holds {value.Length} characters; Table Storage allows {TableLimits.MaxStringPropertyChars} per string property.");
        }

        Count(name, 4 + (value.Length * 2));
        _json.WriteString(name, value);
        return this;
    }

    /// <summary>Adds a binary property.</summary>
    public TableEntityWriter WriteBinary(string name, ReadOnlySpan<byte> value)
    {
        if (value.Length > TableLimits.MaxBinaryPropertyBytes)
        {
            throw new TableLimitExceededException(
                $"Property '{name}' holds {value.Length} bytes; Table Storage allows {TableLimits.MaxBinaryPropertyBytes} per binary property. Split the value across properties.");
        }

        Count(name, 4 + value.Length);
        _json.WriteBase64String(name, value);
        _json.WriteString(name + "@odata.type", "Edm.Binary");
        return this;
    }

    /// <summary>Adds a 64-bit integer property (sent as a string, as OData requires).</summary>
    public TableEntityWriter WriteInt64(string name, long value)
    {
        Count(name, 8);
        _json.WriteString(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _json.WriteString(name + "@odata.type", "Edm.Int64");
        return this;
    }

    /// <summary>Adds a date-time property, in UTC.</summary>
    public TableEntityWriter WriteDateTime(string name, DateTimeOffset value)
    {
        Count(name, 8);
        _json.WriteString(name, value.UtcDateTime);
        _json.WriteString(name + "@odata.type", "Edm.DateTime");
        return this;
    }

    /// <summary>Adds a GUID property.</summary>
    public TableEntityWriter WriteGuid(string name, Guid value)
    {
        Count(name, 16);
        _json.WriteString(name, value);
        _json.WriteString(name + "@odata.type", "Edm.Guid");
        return this;
    }

    /// <summary>Finishes the entity.</summary>
    public TableEntity ToEntity()
    {
        _json.WriteEndObject();
        _json.Dispose();
        return new TableEntity(_partitionKey, _rowKey, _buffer.WrittenMemory, _size);
    }

    private void Count(string name, int valueSize)
    {
        if (++_properties > TableLimits.MaxCustomProperties)
        {
            throw new TableLimitExceededException(
                $"An entity has at most {TableLimits.MaxCustomProperties} properties besides its keys.");
        }

        _size += 8 + (name.Length * 2) + valueSize;
        if (_size > TableLimits.MaxEntityBytes)
        {
            throw new TableLimitExceededException(
                $"Entity ({_partitionKey}, {_rowKey}) would be larger than Table Storage's {TableLimits.MaxEntityBytes}-byte limit.");
        }
    }

    private static void CheckKey(string which, string key)
    {
        ArgumentNullException.ThrowIfNull(key, which);
        if (key.Length > TableLimits.MaxKeyChars)
        {
            throw new TableLimitExceededException($"A {which} has at most {TableLimits.MaxKeyChars} characters.");
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                throw new TableLimitExceededException(
                    $"A {which} may not contain '/', '\\', '#', '?' or control characters.");
            }
        }
    }
}

/// <summary>An entity ready to send: its keys, its JSON, and its size as Azure counts it.</summary>
public sealed record TableEntity(string PartitionKey, string RowKey, ReadOnlyMemory<byte> Json, int Size);
