using System.Diagnostics;
using System.Text.Json;
using Bridge.DevKit;

namespace Bridge.LocalServiceBus.Tests;

/// <summary>
/// The JavaScript SDK reaches the endpoint differently from .NET's (SASL ANONYMOUS rather than MSSBCBS, its own token
/// encoding), so it gets a round trip of its own, run with Node from the repository's node_modules.
/// </summary>
public sealed class JavaScriptSdkTests
{
    [Fact]
    public async Task The_JavaScript_SDK_sends_receives_and_completes()
    {
        var connectionString = LocalServiceBusProcess.ConnectionStringFor(await ConformanceEndpoint.PortAsync());
        var script = Path.Combine(AppContext.BaseDirectory, "javascript", "round-trip.mjs");
        var start = new ProcessStartInfo("node", [script, connectionString, "javascript", "all"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NODE_PATH"] = Path.Combine(RepositoryPaths.Root, "node_modules") },
        };
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(node.ExitCode == 0, $"node exited with {node.ExitCode}:\n{await errors}");
        using var received = JsonDocument.Parse(await output);

        // The JavaScript SDK reports the wire's delivery count (prior attempts), where .NET adds one.
        Assert.Equal(
            [("from javascript", "js.single", "js-1", 0), ("batched", "js.batch", "js-2", 0)],
            received.RootElement.EnumerateArray().Select(m => (m.GetProperty("body").GetString(), m.GetProperty("subject").GetString(), m.GetProperty("messageId").GetString(), m.GetProperty("deliveryCount").GetInt32())));
    }
}
