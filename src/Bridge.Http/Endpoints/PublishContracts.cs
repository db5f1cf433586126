namespace Bridge.Http.Endpoints;

/// <summary>The answer to a publish: the stream and the event's id (the original id for a duplicate).</summary>
public sealed record PublishResponse(string Stream, long Id);

/// <summary>The answer to a batch publish: one result per event, in order.</summary>
public sealed record PublishBatchResponse(string Stream, IReadOnlyList<PublishBatchResult> Events);

/// <summary>One event's result in a batch publish.</summary>
public sealed record PublishBatchResult(long Id, bool Duplicate);
