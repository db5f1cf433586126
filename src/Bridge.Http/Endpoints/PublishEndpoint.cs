using Bridge.Events;
using Bridge.Http.Requests;
using Bridge.Subscribers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bridge.Http.Endpoints;

/// <summary>
/// <c>POST streams/{stream}/events</c>: publishes the body as one event. <c>?type=</c> sets the type and the
/// <c>Idempotency-Key</c> header makes it idempotent. 201 for a new event, 200 for a duplicate.
/// </summary>
public sealed class PublishEndpoint(EventRules rules, HttpPublisher publisher, ILogger<PublishEndpoint> logger)
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

        var types = context.Request.Query["type"];
        if (types.Count > 1)
        {
            return publisher.Refuse(new Refusal(Problems.InvalidEventType, "Give the 'type' query parameter at most once."));
        }

        if (!rules.TryParseType(types.Count == 0 ? null : types.ToString(), out var type, out var typeError))
        {
            return publisher.Refuse(new Refusal(Problems.InvalidEventType, typeError));
        }

        var (key, keyRefusal) = IdempotencyKeyHeader.Read(context.Request);
        if (keyRefusal is not null)
        {
            return publisher.Refuse(keyRefusal);
        }

        var tooLarge = new Refusal(Problems.EventTooLarge, $"Event data has at most {EventData.MaxBytes} bytes (256 KiB).");
        var (data, bodyRefusal) = await RequestBody.ReadAsync(context, EventData.MaxBytes, tooLarge, logger).ConfigureAwait(false);
        if (data is null)
        {
            return publisher.Refuse(bodyRefusal!);
        }

        if (!EventData.TryValidate(data, out var dataProblem))
        {
            return publisher.Refuse(new Refusal(dataProblem.Kind == EventDataProblemKind.TooLarge ? Problems.EventTooLarge : Problems.DataNotUtf8, dataProblem.Message));
        }

        var (results, storageRefusal) = await publisher.PublishAsync(context, name, [new NewEvent(type, data, key)]).ConfigureAwait(false);
        if (results is null)
        {
            return publisher.Refuse(storageRefusal!);
        }

        if (!results[0].IsDuplicate)
        {
            context.Response.Headers.Location = HttpPublisher.LocationOf(context, name, results[0]);
        }

        return HttpPublisher.Answer(
            new PublishResponse(name.Value, results[0].Id, StreamCursor.Format(results[0].Id, results[0].Epoch)),
            results[0].IsDuplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created);
    }
}
