using System.Text.Json;
using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Functions.Tests;

/// <summary>The Service Bus trigger's shape, and the files that configure it.</summary>
public class IngestFunctionTests
{
    private static readonly Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax Ingest =
        FunctionsSource.Functions.Single(f => FunctionsSource.Name(f) == "Ingest");

    private static readonly Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax Trigger =
        FunctionsSource.Trigger(Ingest, "ServiceBusTrigger")!.Value.Attribute;

    [Fact]
    public void It_is_a_batched_topic_subscription_trigger_named_by_app_settings_that_settles_messages_itself()
    {
        var positional = FunctionsSource.Positional(Trigger).Select(FunctionsSource.Literal).ToList();

        Assert.Equal(["%ServiceBusTopic%", "%ServiceBusSubscription%"], positional);
        Assert.Equal("\"ServiceBusConnection\"", FunctionsSource.Named(Trigger, "Connection")!.ToString());
        Assert.Equal("true", FunctionsSource.Named(Trigger, "IsBatched")!.ToString());
        Assert.Equal("false", FunctionsSource.Named(Trigger, "AutoCompleteMessages")!.ToString());
        Assert.Equal("ServiceBusReceivedMessage[]", FunctionsSource.Trigger(Ingest, "ServiceBusTrigger")!.Value.Parameter.Type!.ToString());
    }

    [Fact]
    public void It_delegates_to_the_ingestion_rules_and_settles_every_outcome()
    {
        var calls = FunctionsSource.Functions.SelectMany(FunctionsSource.Calls).Concat(
            Ingest.Ancestors().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax>().Single()
                .DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>().Select(call => call.Expression.ToString())).ToList();

        Assert.Contains("ingest.IngestAsync", calls);
        Assert.Contains("actions.CompleteMessageAsync", calls);
        Assert.Contains("actions.DeadLetterMessageAsync", calls);
        Assert.Contains("actions.AbandonMessageAsync", calls);
    }

    [Fact]
    public void Local_settings_define_every_setting_the_app_reads()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "local.settings.json")));
        var values = settings.RootElement.GetProperty("Values");

        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        foreach (var name in new[] { "ServiceBusTopic", "ServiceBusSubscription", "ServiceBusConnection", "Sse__MaxDurationSeconds", "Sse__HeartbeatSeconds", "Sse__RetryMilliseconds" })
        {
            Assert.True(values.TryGetProperty(name, out _), $"local.settings.json lacks {name}.");
        }

        Assert.True(int.Parse(values.GetProperty("Sse__MaxDurationSeconds").GetString()!, System.Globalization.CultureInfo.InvariantCulture) < 230);
    }

    [Fact]
    public void Host_json_keeps_the_api_prefix_settles_by_hand_and_outlives_an_sse_response()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "host.json")));
        var extensions = host.RootElement.GetProperty("extensions");

        Assert.Equal(Bridge.Http.BridgeRoutes.Prefix, extensions.GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.False(extensions.GetProperty("serviceBus").GetProperty("autoCompleteMessages").GetBoolean());
        Assert.True(TimeSpan.Parse(host.RootElement.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > TimeSpan.FromSeconds(230));
        Assert.Contains("Link=\"host.json\"", File.ReadAllText(Path.Combine(FunctionsSource.Directory, "Bridge.Functions.csproj")), StringComparison.Ordinal);
    }
}
