using Bridge.DevKit;
using Bridge.Events;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Writers in separate processes appending to one stream, as scaled-out Functions instances do: whoever loses a race
/// must still get its turn, and contention is never reported as a storage failure.
/// </summary>
public class RivalWritersTests : IAsyncLifetime
{
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    [Fact(Skip = "Issue 16, finding 4, still open: a writer that never pauses starves a rival. Turns through a claim row fixed this case but raised the publish p99 of evenly matched writers from about 70 ms to over 1 s (docs/benchmarks.md), so they were not kept.")]
    public async Task A_writer_appending_one_event_at_a_time_makes_progress_against_a_rival_that_never_pauses()
    {
        var stream = StreamName.Parse(TestNames.Stream("rivals"));
        await using var busy = EventLogs.Create(_azurite.ConnectionString, _table);
        await using var patient = EventLogs.Create(_azurite.ConnectionString, _table);
        await busy.AppendAsync(stream, [EventLogs.Text("first")]);
        await patient.GetHeadAsync(stream);

        // The busy writer keeps its pipeline full from eight callers until the patient one is done, or until it has
        // made 3,000 appends (about 600 full transactions), whichever comes first.
        const int patientAppends = 5;
        const int busyLimit = 3_000;
        using var patientDone = new CancellationTokenSource();
        var busyAppends = 0;
        var busyCallers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            while (!patientDone.IsCancellationRequested && Interlocked.Increment(ref busyAppends) <= busyLimit)
            {
                await busy.AppendAsync(stream, [.. Enumerable.Range(0, 20).Select(i => EventLogs.Text($"busy {caller}.{i}"))]);
            }
        })).ToList();

        for (var i = 0; i < patientAppends; i++)
        {
            await patient.AppendAsync(stream, [EventLogs.Text($"patient {i}")]);
        }

        var finishedFirst = Volatile.Read(ref busyAppends) <= busyLimit;
        await patientDone.CancelAsync();
        await Task.WhenAll(busyCallers);

        Assert.True(finishedFirst, $"The patient writer's {patientAppends} appends waited until the busy writer had stopped.");
        var stored = await EventLogs.ReadAllAsync(busy, stream);
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(e => e.Id));
        Assert.Equal(patientAppends, stored.Count(e => System.Text.Encoding.UTF8.GetString(e.Data.Span).StartsWith("patient", StringComparison.Ordinal)));
    }
}
