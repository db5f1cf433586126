using System.Net.Sockets;
using Azure;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Which SDK exceptions count as storage failing. Anything left out escapes the event log as itself, and a publish
/// then answers 500 instead of 503 with Retry-After.
/// </summary>
public class StorageFailureTests
{
    public static TheoryData<Exception> Failures() => new()
    {
        new RequestFailedException(503, "busy"),
        new IOException("reset"),
        new HttpRequestException("refused"),
        new TimeoutException(),
        new AggregateException(new HttpRequestException("first"), new HttpRequestException("second")),

        // The socket of a connection the other end closed while it was being opened: .NET's HTTP client lets this one
        // through unwrapped (seen in CI from StorageOutageTests, as a 500 for a publish).
        new SocketException((int)SocketError.NotConnected),
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Each_way_storage_fails_is_a_storage_failure_that_could_not_be_reached_or_answered(Exception failure)
    {
        Assert.True(StorageFailure.IsStorageFailure(failure, CancellationToken.None));
        Assert.Matches("^(could not be reached|answered 503|did not answer in time)$", StorageFailure.Describe(failure));
    }

    [Fact]
    public void A_cancellation_the_caller_asked_for_and_a_bug_are_not_storage_failures()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.False(StorageFailure.IsStorageFailure(new OperationCanceledException(cancelled.Token), cancelled.Token));
        Assert.False(StorageFailure.IsStorageFailure(new InvalidOperationException(), CancellationToken.None));
    }
}
