using System.Text.Json;
using Bridge.DevKit;
using Bridge.Http;
using Bridge.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Bridge.Functions.Tests;

/// <summary>
/// The function metadata the worker SDK generates at build time (<c>functions.metadata</c>), which is what the
/// Functions host reads to bind triggers: a renamed route or a lost binding fails here, not in production.
/// </summary>
public class FunctionMetadataTests
{
    private static readonly List<JsonElement> Functions = ReadMetadata();

    public static TheoryData<string, string, string, string> HttpFunctions() => new()
    {
        { "Subscribe", "get", BridgeRoutes.Events, "Anonymous" },
        { "SubscribeSeveral", "get", BridgeRoutes.Subscription, "Anonymous" },
        { "Publish", "post", BridgeRoutes.Events, "Function" },
        { "PublishBatch", "post", BridgeRoutes.Batch, "Function" },
        { "CreateSession", "post", BridgeRoutes.Session, "Anonymous" },
        { "DeleteSession", "delete", BridgeRoutes.Session, "Anonymous" },
        { "Health", "get", BridgeRoutes.Health, "Anonymous" },
    };

    [Theory]
    [MemberData(nameof(HttpFunctions))]
    public void Each_http_function_has_its_route_method_and_authorization_level(string name, string method, string route, string level)
    {
        var trigger = Trigger(name, "httpTrigger");

        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(level, trigger.GetProperty("authLevel").GetString());
    }

    [Fact]
    public void The_functions_serve_exactly_the_standalone_servers_routes_and_methods()
    {
        var functions = Functions
            .SelectMany(function => function.GetProperty("bindings").EnumerateArray())
            .Where(binding => binding.GetProperty("type").GetString() == "httpTrigger")
            .SelectMany(binding => binding.GetProperty("methods").EnumerateArray().Select(method =>
                $"{method.GetString()!.ToUpperInvariant()} /{BridgeRoutes.Prefix}/{binding.GetProperty("route").GetString()}"))
            .Order()
            .ToList();

        var app = BridgeServer.Create([]);
        var server = ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(verb => $"{verb} /{endpoint.RoutePattern.RawText!.TrimStart('/')}"))
            .Order()
            .ToList();

        Assert.Equal(server, functions);
    }

#if SERVICE_BUS_TRIGGER
    [Fact]
    public void Ingest_is_a_batched_trigger_on_the_configured_topic_subscription_that_settles_messages_itself()
    {
        var trigger = Trigger("Ingest", "serviceBusTrigger");

        Assert.Equal("%ServiceBusTopic%", trigger.GetProperty("topicName").GetString());
        Assert.Equal("%ServiceBusSubscription%", trigger.GetProperty("subscriptionName").GetString());
        Assert.Equal("ServiceBusConnection", trigger.GetProperty("connection").GetString());
        Assert.Equal("Many", trigger.GetProperty("cardinality").GetString());
        Assert.False(trigger.GetProperty("autoCompleteMessages").GetBoolean());
    }

    [Fact]
    public void IngestSessions_is_the_same_trigger_with_sessions_on()
    {
        var plain = Trigger("Ingest", "serviceBusTrigger");
        var sessions = Trigger("IngestSessions", "serviceBusTrigger");

        Assert.True(sessions.GetProperty("isSessionsEnabled").GetBoolean());
        Assert.False(plain.TryGetProperty("isSessionsEnabled", out var enabled) && enabled.GetBoolean());
        foreach (var property in new[] { "topicName", "subscriptionName", "connection", "cardinality", "autoCompleteMessages" })
        {
            Assert.Equal(plain.GetProperty(property).ToString(), sessions.GetProperty(property).ToString());
        }
    }
#else
    [Fact]
    public void Ingest_is_left_out_only_because_this_build_was_told_to()
    {
        // scripts/test.sh builds with -p:IncludeServiceBusTrigger=false on a machine without the trigger's package.
        Assert.DoesNotContain(Functions, function => function.GetProperty("name").GetString() is "Ingest" or "IngestSessions");
        Assert.Equal(HttpFunctions().Count, Functions.Count);
    }
#endif

    private static JsonElement Trigger(string function, string type) =>
        Functions.Single(f => f.GetProperty("name").GetString() == function)
            .GetProperty("bindings").EnumerateArray()
            .Single(binding => binding.GetProperty("type").GetString() == type);

    private static List<JsonElement> ReadMetadata()
    {
        var path = Path.Combine(RepositoryPaths.Root, "src", "Bridge.Functions", "bin", RepositoryPaths.Configuration, "net10.0", "functions.metadata");
        using var metadata = JsonDocument.Parse(File.ReadAllText(path));
        return [.. metadata.RootElement.EnumerateArray().Select(function => function.Clone())];
    }
}
