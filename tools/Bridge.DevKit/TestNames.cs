namespace Bridge.DevKit;

/// <summary>Unique names, so tests and benchmarks sharing one Azurite never see each other's streams or tables.</summary>
public static class TestNames
{
    public static string Stream(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 33, 128)];

    public static string Table() => "t" + Guid.NewGuid().ToString("N")[..20];
}
