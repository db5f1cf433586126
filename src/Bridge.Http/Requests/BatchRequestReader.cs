using System.Text;
using System.Text.Json;
using Bridge.Events;
using Bridge.Http.Endpoints;
using Microsoft.Extensions.Options;

namespace Bridge.Http.Requests;

/// <summary>The body of a batch publish: <c>{"events":[{"type":…,"data":…,"idempotencyKey":…}]}</c>.</summary>
public sealed record PublishBatchRequest(IReadOnlyList<PublishBatchItem>? Events);

/// <summary>One event of a batch publish. <see cref="Data"/> is text, stored as UTF-8.</summary>
public sealed record PublishBatchItem(string? Type, string? Data, string? IdempotencyKey);

/// <summary>
/// Turns a batch publish's body into events, all of them valid, or says which are not. An event without its own key
/// gets <c>{Idempotency-Key}#{index}</c> when the request has that header, so a retried batch is stored once even
/// without per-event keys.
/// </summary>
public sealed class BatchRequestReader(EventRules rules, IOptions<PublishOptions> options)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly PublishOptions _options = options.Value;

    /// <summary>The events of <paramref name="body"/>, or why nothing may be stored.</summary>
    public (List<NewEvent>? Events, Refusal? Refusal) Read(ReadOnlySpan<byte> body, IdempotencyKey? baseKey)
    {
        PublishBatchRequest? request;
        try
        {
            // A byte order mark, which editors and PowerShell like to add, may be ignored (RFC 8259, section 8.1).
            request = JsonSerializer.Deserialize<PublishBatchRequest>(body.StartsWith("\uFEFF"u8) ? body[3..] : body, JsonSerializerOptions.Web);
        }
        catch (JsonException exception)
        {
            return (null, ShapeRefusal(exception));
        }

        if (request?.Events is not { Count: > 0 } items)
        {
            return (null, new Refusal(Problems.InvalidBatch, "The body must be a JSON object with a non-empty \"events\" array."));
        }

        if (items.Count > _options.MaxBatchEvents)
        {
            return (null, new Refusal(
                Problems.BatchTooLarge,
                $"A batch holds at most {_options.MaxBatchEvents} events here ({PublishOptions.SectionName}:{nameof(PublishOptions.MaxBatchEvents)}); this one has {items.Count}."));
        }

        var events = new List<NewEvent>(items.Count);
        var errors = new Dictionary<string, string[]>();
        for (var index = 0; index < items.Count; index++)
        {
            if (TryCreateEvent(items[index], index, baseKey, out var newEvent, out var field, out var problem))
            {
                events.Add(newEvent);
            }
            else
            {
                errors[$"events[{index}].{field}"] = [problem];
            }
        }

        return errors.Count == 0
            ? (events, null)
            : (null, new Refusal(Problems.InvalidBatch, $"{errors.Count} of the {items.Count} events are not valid; nothing was stored.") { Errors = errors });
    }

    /// <summary>
    /// A body that is not JSON, or JSON of another shape, in the batch's own terms: the serializer's message names
    /// .NET types, so only its position is used.
    /// </summary>
    private static Refusal ShapeRefusal(JsonException exception)
    {
        var path = exception.Path is { Length: > 2 } jsonPath && jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : null;
        if (path is null || !exception.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return new Refusal(
                Problems.InvalidBatch,
                $"The body is not valid JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}). It must be {{\"events\": [ … ]}}.");
        }

        var expected = path switch
        {
            "events" => "an array of events",
            _ when path.EndsWith(']') => "an event: an object with \"data\" and optionally \"type\" and \"idempotencyKey\"",
            _ => "a string",
        };
        return new Refusal(Problems.InvalidBatch, $"The body is not a batch: \"{path}\" must be {expected}.")
        {
            Errors = new Dictionary<string, string[]> { [path] = [$"Must be {expected}."] },
        };
    }

    private bool TryCreateEvent(
        PublishBatchItem? item,
        int index,
        IdempotencyKey? baseKey,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NewEvent? newEvent,
        out string field,
        out string problem)
    {
        newEvent = null;
        problem = string.Empty;
        field = "type";
        if (item is null)
        {
            (field, problem) = ("", "An event must be a JSON object.");
            return false;
        }

        if (!rules.TryParseType(item.Type, out var type, out var error))
        {
            problem = error;
            return false;
        }

        field = "idempotencyKey";
        IdempotencyKey? key = null;
        var keyText = item.IdempotencyKey ?? (baseKey is { } header ? $"{header.Value}#{index}" : null);
        if (keyText is not null)
        {
            if (!IdempotencyKey.TryParse(keyText, out var parsed, out error))
            {
                problem = error;
                return false;
            }

            key = parsed;
        }

        field = "data";
        if (item.Data is null)
        {
            problem = "Each event needs \"data\", a string (\"\" for an event without data).";
            return false;
        }

        byte[] data;
        try
        {
            data = StrictUtf8.GetBytes(item.Data);
        }
        catch (EncoderFallbackException)
        {
            problem = "The data holds an unpaired surrogate, which is not valid Unicode text.";
            return false;
        }

        if (!EventData.TryValidate(data, out var dataProblem))
        {
            problem = dataProblem.Message;
            return false;
        }

        newEvent = new NewEvent(type, data, key);
        return true;
    }
}
