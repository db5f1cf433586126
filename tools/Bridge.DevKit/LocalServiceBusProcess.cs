using System.Globalization;

namespace Bridge.DevKit;

/// <summary>
/// The local Service Bus endpoint (tools/Bridge.LocalServiceBus) in its own process on a loopback port, serving the
/// topics and subscriptions of a <c>Config.json</c>-shaped file.
/// </summary>
public sealed class LocalServiceBusProcess : IAsyncDisposable
{
    /// <summary>The key and key name Microsoft's emulator uses, and so this endpoint: no secret.</summary>
    public const string KeyName = "RootManageSharedAccessKey";

    public const string Key = "SAS_KEY_VALUE";

    private readonly ChildProcess _process;

    private LocalServiceBusProcess(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The connection string the SDKs take in development-emulator mode.</summary>
    public string ConnectionString => ConnectionStringFor(Port);

    public ChildProcess Process => _process;

    public string Output => _process.Output;

    public static string ConnectionStringFor(int port, string key = Key) =>
        $"Endpoint=sb://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};SharedAccessKeyName={KeyName};SharedAccessKey={key};UseDevelopmentEmulator=true;";

    /// <summary>Starts the endpoint with the topology in <paramref name="configPath"/> on a free port, or on <paramref name="port"/>.</summary>
    public static async Task<LocalServiceBusProcess> StartAsync(string configPath, int? port = null)
    {
        if (!File.Exists(RepositoryPaths.LocalServiceBusAssembly))
        {
            throw new InvalidOperationException($"The local Service Bus endpoint is not built at {RepositoryPaths.LocalServiceBusAssembly}.");
        }

        var listenPort = port ?? FreePort.Next();
        var process = await ChildProcess.StartAsync("dotnet",
            [RepositoryPaths.LocalServiceBusAssembly, "--port", listenPort.ToString(CultureInfo.InvariantCulture), "--config", configPath]);
        try
        {
            await process.WaitForLineAsync(line => line.StartsWith("Local Service Bus listening", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            return new LocalServiceBusProcess(process, listenPort);
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException)
        {
            await process.DisposeAsync();
            throw new InvalidOperationException($"The local Service Bus endpoint did not start on port {listenPort}:\n{process.Output}", exception);
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
