using Bridge.Http.Requests;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>POST streams/{stream}/events/batch</c>: publishes many events in order, from a JSON body
/// <c>{"events":[{"type":…,"data":…,"idempotencyKey":…}]}</c>. 201 when any event is new, 200 when all are duplicates.
/// If any event is invalid, nothing is stored.
/// </summary>
public sealed class PublishBatchEndpoint(
    HttpPublisher publisher,
    BatchRequestReader reader,
    IOptions<PublishOptions> options,
    ILogger<PublishBatchEndpoint> logger)
{
    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context, string? stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await PublishAsync(context, stream).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task<IResult> PublishAsync(HttpContext context, string? stream)
    {
        var (name, refused) = await publisher.AdmitAsync(context, stream).ConfigureAwait(false);
        if (refused is not null)
        {
            return publisher.Refuse(refused);
        }

        var (baseKey, keyRefusal) = IdempotencyKeyHeader.Read(context.Request);
        if (keyRefusal is not null)
        {
            return publisher.Refuse(keyRefusal);
        }

        var maxBytes = options.Value.MaxBatchBytes;
        var tooLarge = new Refusal(
            Problems.BatchTooLarge,
            $"A batch request body has at most {maxBytes} bytes here ({PublishOptions.SectionName}:{nameof(PublishOptions.MaxBatchBytes)}).");
        var (body, bodyRefusal) = await RequestBody.ReadAsync(context, maxBytes, tooLarge, logger).ConfigureAwait(false);
        if (body is null)
        {
            return publisher.Refuse(bodyRefusal!);
        }

        var (events, invalid) = reader.Read(body, baseKey);
        if (events is null)
        {
            return publisher.Refuse(invalid!);
        }

        var (results, storageRefusal) = await publisher.PublishAsync(context, name, events).ConfigureAwait(false);
        if (results is null)
        {
            return publisher.Refuse(storageRefusal!);
        }

        if (results.FirstOrDefault(result => !result.IsDuplicate) is { Id: > 0 } firstNew)
        {
            context.Response.Headers.Location = HttpPublisher.LocationOf(context, name, firstNew);
        }

        return HttpPublisher.Answer(
            new PublishBatchResponse(name.Value, [.. results.Select(PublishBatchResult.From)]),
            results.All(result => result.IsDuplicate) ? StatusCodes.Status200OK : StatusCodes.Status201Created);
    }
}
