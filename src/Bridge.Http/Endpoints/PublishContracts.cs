using Bridge.Events;
using Bridge.Subscribers;

namespace Bridge.Http.Endpoints;

/// <summary>
/// The answer to a publish: the stream, the event's id (the original id for a duplicate), and <c>eventId</c>, the id
/// as subscribers receive it (<c>{id}.{epoch}</c>), which tells which of the stream's histories the id belongs to.
/// </summary>
public sealed record PublishResponse(string Stream, long Id, string EventId);

/// <summary>The answer to a batch publish: one result per event, in order.</summary>
public sealed record PublishBatchResponse(string Stream, IReadOnlyList<PublishBatchResult> Events);

/// <summary>One event's result in a batch publish.</summary>
public sealed record PublishBatchResult(long Id, bool Duplicate, string EventId)
{
    public static PublishBatchResult From(AppendResult result) =>
        new(result.Id, result.IsDuplicate, StreamCursor.Format(result.Id, result.Epoch));
}
