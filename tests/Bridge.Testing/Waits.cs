namespace Bridge.Testing;

/// <summary>Bounded waits: every wait in a test has a limit, so a test fails instead of hanging.</summary>
public static class Waits
{
    public static CancellationToken Within(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>Waits until <paramref name="condition"/> holds, for at most <paramref name="seconds"/>.</summary>
    public static async Task Eventually(Func<bool> condition, int seconds = 10)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var token = Within(seconds);
        while (!condition())
        {
            await Task.Delay(20, token);
        }
    }
}
