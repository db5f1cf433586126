namespace Bridge.Events;

/// <summary>An event to append, before it has an id.</summary>
public sealed record NewEvent
{
    /// <summary>Creates an event to append.</summary>
    /// <exception cref="ArgumentException">The data is too large or not UTF-8; see <see cref="EventData.TryValidate"/>.</exception>
    public NewEvent(EventType type, ReadOnlyMemory<byte> data, IdempotencyKey? idempotencyKey = null)
    {
        if (!EventData.TryValidate(data.Span, out var problem))
        {
            throw new ArgumentException(problem.Message, nameof(data));
        }

        Type = type;
        Data = data;
        IdempotencyKey = idempotencyKey;
    }

    /// <summary>The event type.</summary>
    public EventType Type { get; }

    /// <summary>The data: UTF-8 text, at most <see cref="EventData.MaxBytes"/>.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The key that makes the append idempotent, if any.</summary>
    public IdempotencyKey? IdempotencyKey { get; }
}
