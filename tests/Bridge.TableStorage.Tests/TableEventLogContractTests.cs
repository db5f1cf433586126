using Bridge.Core.Tests.Events;
using Bridge.DevKit;
using Bridge.Events;

namespace Bridge.TableStorage.Tests;

/// <summary>The Table Storage log keeps the contract of every <see cref="IEventLog"/>, on real Azurite.</summary>
public sealed class TableEventLogContractTests : EventLogContract, IAsyncLifetime
{
    private readonly string _table = TestNames.Table();
    private readonly List<TableEventLog> _logs = [];
    private AzuriteProcess _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.Shared;

    public async Task DisposeAsync()
    {
        foreach (var log in _logs)
        {
            await log.DisposeAsync();
        }

        await Tables.DeleteIfExistsAsync(_azurite.ConnectionString, _table);
    }

    /// <summary>Each writer has its own client, head ETag and key window, exactly as another process would.</summary>
    protected override IEventLog[] Writers(int count)
    {
        var writers = Enumerable.Range(0, count).Select(_ => EventLogs.Create(_azurite.ConnectionString, _table)).ToArray();
        _logs.AddRange(writers);
        return writers;
    }
}
