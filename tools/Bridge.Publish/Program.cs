using System.Globalization;
using Azure.Messaging.ServiceBus;

// Publishes to the topic Bridge ingests, the way a producer does:
//   dotnet Bridge.Publish.dll --stream demo [--type greeting] [--count 1] [--session] [--topic bridge-events] "data"
// The namespace comes from $ServiceBusConnection, else the local Service Bus endpoint on $SERVICEBUS_PORT (5672).
// Each message: Subject = type, body = data, MessageId = a new GUID (Bridge's idempotency key), the application
// property "stream" = the stream, and with --session SessionId = the stream (for a session-enabled subscription).
var options = new Dictionary<string, string>(StringComparer.Ordinal);
var session = false;
string? data = null;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--session")
    {
        session = true;
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
    {
        options[args[i]] = args[++i];
    }
    else
    {
        data = args[i];
    }
}

if (!options.TryGetValue("--stream", out var stream) || data is null || options.Keys.Except(["--stream", "--type", "--count", "--topic"]).Any())
{
    Console.Error.WriteLine("usage: Bridge.Publish --stream <name> [--type <type>] [--count <n>] [--session] [--topic <topic>] <data>");
    return 2;
}

var count = int.Parse(options.GetValueOrDefault("--count", "1"), CultureInfo.InvariantCulture);
var topic = options.GetValueOrDefault("--topic", "bridge-events");
var port = Environment.GetEnvironmentVariable("SERVICEBUS_PORT") ?? "5672";
var connectionString = Environment.GetEnvironmentVariable("ServiceBusConnection") is { Length: > 0 } configured
    ? configured
    : $"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";

await using var client = new ServiceBusClient(connectionString);
await using var sender = client.CreateSender(topic);
var pending = new Queue<ServiceBusMessage>(Enumerable.Range(1, count).Select(n => new ServiceBusMessage(count == 1 ? data : $"{data} {n}")
{
    Subject = options.GetValueOrDefault("--type"),
    MessageId = Guid.NewGuid().ToString(),
    SessionId = session ? stream : null,
    ApplicationProperties = { ["stream"] = stream },
}));

// As many as fit in each batch, so a large --count takes few round trips.
var sent = 0;
while (pending.Count > 0)
{
    using var batch = await sender.CreateMessageBatchAsync();
    while (pending.Count > 0 && batch.TryAddMessage(pending.Peek()))
    {
        pending.Dequeue();
    }

    if (batch.Count == 0)
    {
        Console.Error.WriteLine("The message is larger than Service Bus allows (256 KB on Standard).");
        return 1;
    }

    await sender.SendMessagesAsync(batch);
    sent += batch.Count;
}

Console.WriteLine($"Sent {sent} message(s) to topic '{topic}' for stream '{stream}'.");
return 0;
