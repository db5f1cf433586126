using Bridge.DevKit;
using Bridge.Events;
using Bridge.Telemetry;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Writers with their own clients and state appending to one stream, as scaled-out Functions instances do: whoever
/// loses a race must still get its turn (issue 16, finding 4).
/// </summary>
public class RivalWritersTests : IAsyncLifetime
{
    private AzuriteProcess _azurite = null!;
    private readonly string _table = TestNames.Table();

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);

    [Fact]
    public async Task Four_busy_writers_share_the_stream_and_lose_few_races()
    {
        var stream = StreamName.Parse(TestNames.Stream("four"));
        var metrics = Enumerable.Range(0, 4).Select(_ => new BridgeMetrics()).ToList();
        var losses = metrics.Select(m => CounterTotal.Of(m.StorageTransactions, ("kind", "conflict"))).ToList();
        var writers = metrics.Select(m => EventLogs.Create(_azurite.ConnectionString, _table, metrics: m)).ToList();
        try
        {
            await writers[0].AppendAsync(stream, [EventLogs.Text("first")]);

            // Every writer keeps 16 callers appending one event at a time, until 4,000 events are stored in all.
            const int total = 4_000;
            var appended = new long[writers.Count];
            var stored = 0L;
            var callers = writers.SelectMany((writer, index) => Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref stored) <= total)
                {
                    await writer.AppendAsync(stream, [EventLogs.Text($"writer {index}")]);
                    Interlocked.Increment(ref appended[index]);
                }
            }))).ToList();
            await Task.WhenAll(callers);

            // Before turns, one writer took about 3,950 of the 4,000 and the others lost over 100 races each.
            var shares = string.Join(", ", appended);
            var lost = string.Join(", ", losses.Select(count => count.Total));
            Assert.All(appended, count => Assert.True(count >= total / 10, $"A writer appended only {count} of {total} events ({shares}; races lost: {lost})."));
            Assert.True(losses.Sum(count => count.Total) <= total / 20, $"The writers lost {lost} races for {total} events.");
            var all = await EventLogs.ReadAllAsync(writers[0], stream);
            Assert.Equal(Enumerable.Range(1, total + 1).Select(i => (long)i), all.Select(e => e.Id));
        }
        finally
        {
            losses.ForEach(count => count.Dispose());
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
        }
    }
}
