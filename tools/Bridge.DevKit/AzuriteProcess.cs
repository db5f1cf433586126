namespace Bridge.DevKit;

/// <summary>
/// A real Azurite Table service in its own process, on a loopback port, keeping its data in memory. Every test
/// assembly gets its own (<see cref="Shared"/>), so test runs never touch a developer's Azurite or each other.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>The development account that Azurite serves.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The development account's key, which Microsoft publishes: it is no secret.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task<AzuriteProcess>> SharedInstance = new(() => StartAsync());

    private readonly ChildProcess _process;

    private AzuriteProcess(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The instance shared by the tests of one assembly, started on first use and stopped at exit.</summary>
    public static Task<AzuriteProcess> Shared => SharedInstance.Value;

    public int Port { get; }

    /// <summary>The Node process that serves the table API, for signalling it (freezing it with SIGSTOP, say).</summary>
    public ChildProcess Process => _process;

    /// <summary>A connection string for this instance, with the development account's well-known key.</summary>
    public string ConnectionString => ConnectionStringFor(Port);

    public string Output => _process.Output;

    /// <summary>A connection string for the development account at any port (a relay's, say).</summary>
    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};" +
        $"AccountKey={DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/{DevelopmentAccountName};";

    /// <summary>Starts Azurite on <paramref name="port"/>, or on a free port when none is given, and waits until it answers.</summary>
    public static async Task<AzuriteProcess> StartAsync(int? port = null)
    {
        if (!File.Exists(RepositoryPaths.AzuriteTable))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed at {RepositoryPaths.AzuriteTable}. Run 'npm ci' in the repository root, or use scripts/test.sh.");
        }

        var tablePort = port ?? FreePort.Next();
        var process = await ChildProcess.StartAsync(RepositoryPaths.AzuriteTable,
        [
            "--tableHost", "127.0.0.1", "--tablePort", tablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck",
        ]);
        var azurite = new AzuriteProcess(process, tablePort);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                // Any answer, even 403 for an unsigned request, means the service is up.
                using var _ = await http.GetAsync(new Uri($"http://127.0.0.1:{tablePort}/{DevelopmentAccountName}/Tables"));
                return azurite;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                await azurite.DisposeAsync();
                throw new InvalidOperationException($"Azurite did not answer on port {tablePort}. Its output:\n{process.Output}", exception);
            }
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
