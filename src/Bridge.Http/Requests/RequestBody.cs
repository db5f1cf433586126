using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bridge.Http.Requests;

/// <summary>Reads a request body whole, up to a limit.</summary>
public static partial class RequestBody
{
    /// <summary>
    /// The body's bytes; or <paramref name="tooLarge"/> as soon as it exceeds <paramref name="limit"/> bytes; or the
    /// server's refusal when the client sends it too slowly or stops part-way.
    /// </summary>
    public static async Task<(byte[]? Body, Refusal? Refusal)> ReadAsync(HttpContext context, int limit, Refusal tooLarge, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (null, tooLarge);
        }

        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.End);
                    return (null, tooLarge);
                }

                if (read.IsCompleted)
                {
                    var body = System.Buffers.BuffersExtensions.ToArray(buffer);
                    reader.AdvanceTo(buffer.End);
                    return (body, null);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (BadHttpRequestException exception)
        {
            LogUnreadableBody(logger, request.Path, exception.Message);
            return (null, new Refusal(Problems.UnreadableBody(exception.StatusCode), exception.Message));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The body of a request to {Path} could not be read: {Reason}")]
    private static partial void LogUnreadableBody(ILogger logger, PathString path, string reason);
}
