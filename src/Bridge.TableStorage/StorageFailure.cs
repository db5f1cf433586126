using Azure;
using Bridge.Events;

namespace Bridge.TableStorage;

/// <summary>
/// Turns what the Azure SDK throws when storage fails into <see cref="EventLogUnavailableException"/>, so no SDK
/// exception type escapes the event log.
/// </summary>
internal static class StorageFailure
{
    /// <summary>
    /// True for the SDK's ways of saying that storage failed: a refused or failed request, a transport error (a
    /// <see cref="System.Net.Sockets.SocketException"/> too, which .NET's HTTP client lets through unwrapped when the
    /// other end closes a connection it is still opening), the <see cref="AggregateException"/> it throws once its
    /// retries are spent (one inner exception per attempt), a request timeout (a cancellation the caller did not ask
    /// for), and the operation timeout running out.
    /// </summary>
    public static bool IsStorageFailure(Exception exception, CancellationToken callerToken) => exception switch
    {
        RequestFailedException or IOException or System.Net.Http.HttpRequestException or System.Net.Sockets.SocketException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(inner => IsStorageFailure(inner, callerToken)),
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Wraps a storage failure, saying what could not be done and what storage answered.</summary>
    public static EventLogUnavailableException Wrap(Exception exception, string whatFailed, string advice = "Retry later.") =>
        new($"{whatFailed}: Table storage {Describe(exception)}. {advice}", exception);

    /// <summary>Says what storage did, for messages: "could not be reached", or "answered 503 ServerBusy".</summary>
    public static string Describe(Exception exception) => exception switch
    {
        RequestFailedException { Status: > 0 } failed => $"answered {failed.Status} {failed.ErrorCode}".TrimEnd(),
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 => Describe(aggregate.InnerExceptions[^1]),
        OperationCanceledException or TimeoutException => "did not answer in time",
        _ => "could not be reached",
    };
}
