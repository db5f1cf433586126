namespace Bridge.ServiceBus;

/// <summary>Pauses after failures in a row, doubling each time up to a ceiling, so a broken dependency is not hammered.</summary>
internal sealed class Backoff(TimeSpan first, TimeSpan ceiling, TimeProvider clock)
{
    private int _failuresInARow;

    public void Reset() => _failuresInARow = 0;

    /// <summary>Waits the next pause; false when <paramref name="stopping"/> ended the wait.</summary>
    public async Task<bool> WaitAsync(CancellationToken stopping)
    {
        var doubled = first * Math.Pow(2, Math.Min(_failuresInARow++, 16));
        var pause = doubled < ceiling ? doubled : ceiling;
        try
        {
            // A little jitter, so receivers that failed together do not retry together.
            await Task.Delay(pause * (0.8 + (0.4 * Random.Shared.NextDouble())), clock, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
    }
}
