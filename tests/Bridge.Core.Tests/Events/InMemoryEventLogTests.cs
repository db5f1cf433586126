using Bridge.Events;

namespace Bridge.Core.Tests.Events;

/// <summary>The in-memory log keeps the same contract as the durable one.</summary>
public sealed class InMemoryEventLogTests : EventLogContract
{
    private readonly InMemoryEventLog _log = new(TimeProvider.System);

    /// <summary>One process's log is shared by all its writers.</summary>
    protected override IEventLog[] Writers(int count) => [.. Enumerable.Repeat<IEventLog>(_log, count)];
}
