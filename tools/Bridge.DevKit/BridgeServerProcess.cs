using System.Text.RegularExpressions;

namespace Bridge.DevKit;

/// <summary>
/// The standalone server as a separate operating-system process, for tests and benchmarks across processes: several
/// instances on one storage account, a server killed or restarted mid-stream.
/// </summary>
public sealed partial class BridgeServerProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private BridgeServerProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The server's process id (<c>dotnet app.dll</c> runs the app in the dotnet process itself).</summary>
    public int ProcessId => _process.Id;

    public string Output => _process.Output;

    /// <summary>
    /// Starts a server. <paramref name="settings"/> are environment variables in <c>Section__Key</c> form, exactly as an
    /// operator would set them. <paramref name="port"/> 0 picks a free one. <paramref name="assembly"/> is the server
    /// to run, this repository's build by default (a benchmark may run another commit's). The per-client limits are
    /// raised (<see cref="LoadGeneratorLimits"/>) unless <paramref name="productLimits"/>, for a measurement of the
    /// defaults an operator gets.
    /// </summary>
    public static async Task<BridgeServerProcess> StartAsync(
        IDictionary<string, string> settings, int port = 0, string? assembly = null, string scheme = "http", bool productLimits = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        assembly ??= RepositoryPaths.ServerAssembly;
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"The server is not built at {assembly}.");
        }

        var environment = new Dictionary<string, string?>
        {
            // The load harness handles its own sockets' completions inline; the server runs as shipped unless told.
            ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = null,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",

            // local.settings.json names the local Service Bus endpoint; a caller that wants ingest names its own.
            ["ServiceBusConnection"] = string.Empty,
        };
        foreach (var (key, value) in productLimits ? new Dictionary<string, string>() : LoadGeneratorLimits.Settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var process = await ChildProcess.StartAsync("dotnet", [assembly, "--urls", $"{scheme}://127.0.0.1:{port}"], environment);
        try
        {
            var listening = await process.WaitForLineAsync(line => ListeningLine().IsMatch(line), TimeSpan.FromSeconds(60));
            return new BridgeServerProcess(process, new Uri(ListeningLine().Match(listening).Groups[1].Value));
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException)
        {
            await process.DisposeAsync();
            throw new InvalidOperationException($"The server did not report its address:\n{process.Output}", exception);
        }
    }

    /// <summary>Asks the server to stop as an orchestrator would (SIGTERM), and waits for it.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Signal(ChildProcess.SigTerm);
            await _process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Kills the server at once, as a crash would, without waiting for it to be gone.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }

    [GeneratedRegex(@"Now listening on: (https?://\S+)")]
    private static partial Regex ListeningLine();
}
