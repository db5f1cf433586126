using Bridge.Events;
using Microsoft.AspNetCore.Http;

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
    public static PublishBatchResult From(AppendResult result) => new(result.Id, result.IsDuplicate, EventIdOf(result));

    /// <summary>The id as the event's SSE <c>id:</c> field carries it.</summary>
    public static string EventIdOf(AppendResult result) =>
        result.Epoch.Length > 0 ? FormattableString.Invariant($"{result.Id}.{result.Epoch}") : FormattableString.Invariant($"{result.Id}");

    /// <summary>
    /// The <c>Location</c> of a 201: the stream's events from <paramref name="firstNew"/> on, that is, a subscription
    /// whose cursor is the id just before it.
    /// </summary>
    public static string LocationOf(HttpContext context, StreamName stream, AppendResult firstNew) =>
        $"{context.Request.PathBase}/{BridgeRoutes.Prefix}/streams/{Uri.EscapeDataString(stream.Value)}/events" +
        $"?lastEventId={EventIdOf(firstNew with { Id = firstNew.Id - 1 })}";
}
