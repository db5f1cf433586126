using System.Runtime.InteropServices;
using Bridge.LocalServiceBus;

// A local Service Bus endpoint for development and tests (see README.md beside this file).
//   dotnet Bridge.LocalServiceBus.dll [--port 5672] [--host 127.0.0.1] [--config Config.json]
// Connection string: Endpoint=sb://127.0.0.1:PORT;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;
var options = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
var unknown = options.Keys.Except(["--port", "--host", "--config"]).ToList();
if (unknown.Count > 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: Bridge.LocalServiceBus [--port 5672] [--host 127.0.0.1] [--config Config.json]");
    return 2;
}

var port = int.Parse(options.GetValueOrDefault("--port", "5672"), System.Globalization.CultureInfo.InvariantCulture);
var host = options.GetValueOrDefault("--host", "127.0.0.1");
var configPath = options.GetValueOrDefault("--config", Path.Combine(AppContext.BaseDirectory, "Config.json"));

Topology topology;
try
{
    topology = Topology.Load(configPath);
}
catch (Exception exception) when (exception is IOException or InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or FormatException)
{
    Console.Error.WriteLine($"Cannot read the topology from {configPath}: {exception.Message}");
    return 1;
}

// The key Microsoft's emulator uses; the endpoint is for loopback development only.
var signature = new SharedAccessSignature("RootManageSharedAccessKey", "SAS_KEY_VALUE");
await using var broker = new Broker(topology, signature, TimeProvider.System, Console.Error);
try
{
    broker.Start(host, port);
}
catch (System.Net.Sockets.SocketException exception)
{
    Console.Error.WriteLine($"Cannot listen on {host}:{port}: {exception.Message}. Set another port with --port.");
    return 1;
}

var entities = topology.Topics.SelectMany(t => t.Subscriptions.Select(s => $"{t.Name}/Subscriptions/{s.Name}{(s.RequiresSession ? " (sessions)" : "")}"));
Console.WriteLine($"Local Service Bus listening on sb://{host}:{port} with {string.Join(", ", entities)}");

var stop = new TaskCompletionSource();
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
await stop.Task;
return 0;
