using System.Reflection;
using Bridge.Http;
using Bridge.Http.Endpoints;
using Bridge.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bridge.Functions.Tests;

/// <summary>
/// The Functions app and the standalone server run one code path: every HTTP function hands its request to the same
/// endpoint class the server maps, on the same route and verb, and does nothing else.
/// </summary>
public class SharedCodePathTests
{
    private static readonly Dictionary<string, HashSet<string>> EndpointMethods = typeof(SubscribeEndpoint).Assembly.GetTypes()
        .Where(type => type.Namespace == typeof(SubscribeEndpoint).Namespace && type.Name.Contains("Endpoint", StringComparison.Ordinal))
        .ToDictionary(type => type.Name, type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(method => method.Name).ToHashSet());

    public static TheoryData<string> HttpFunctions() =>
        [.. FunctionsSource.Functions.Where(f => FunctionsSource.Trigger(f, "HttpTrigger") is not null).Select(FunctionsSource.Name)];

    [Theory]
    [MemberData(nameof(HttpFunctions))]
    public void Each_http_function_only_hands_the_request_to_an_endpoint_class(string name)
    {
        var function = FunctionsSource.Functions.Single(f => FunctionsSource.Name(f) == name);
        var statements = function.Body!.Statements;

        Assert.Equal(2, statements.Count);
        var call = Assert.IsType<InvocationExpressionSyntax>(Assert.IsType<AwaitExpressionSyntax>(
            Assert.IsType<ExpressionStatementSyntax>(statements[0]).Expression).Expression);
        var target = Assert.IsType<MemberAccessExpressionSyntax>(call.Expression);
        var endpoint = function.Ancestors().OfType<ClassDeclarationSyntax>().Single().ParameterList!.Parameters
            .Single(parameter => parameter.Identifier.Text == target.Expression.ToString());
        Assert.Contains(target.Name.Identifier.Text, EndpointMethods[endpoint.Type!.ToString()]);
        Assert.Equal("request.HttpContext", call.ArgumentList.Arguments[0].Expression.ToString());
        Assert.Equal("return new EmptyResult();", statements[1].ToString());
    }

    [Fact]
    public void The_functions_expose_exactly_the_servers_routes_and_verbs_calling_the_same_handlers()
    {
        var functions = FunctionsSource.Functions
            .Where(f => FunctionsSource.Trigger(f, "HttpTrigger") is not null)
            .Select(f =>
            {
                var trigger = FunctionsSource.Trigger(f, "HttpTrigger")!.Value.Attribute;
                var route = (MemberAccessExpressionSyntax)FunctionsSource.Named(trigger, "Route")!;
                Assert.Equal(nameof(BridgeRoutes), route.Expression.ToString());
                var template = (string)typeof(BridgeRoutes).GetField(route.Name.Identifier.Text)!.GetRawConstantValue()!;
                var verb = FunctionsSource.Literal(FunctionsSource.Positional(trigger)[1]).ToUpperInvariant();
                return $"{verb} /{BridgeRoutes.Prefix}/{template}";
            })
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
        Assert.Equal(6, functions.Count);
    }

    [Theory]
    [InlineData("Subscribe", "Anonymous")]
    [InlineData("Health", "Anonymous")]
    [InlineData("CreateSession", "Anonymous")]
    [InlineData("DeleteSession", "Anonymous")]
    [InlineData("Publish", "Function")]
    [InlineData("PublishBatch", "Function")]
    public void Publishing_needs_a_function_key_and_the_rest_is_anonymous_because_the_handlers_check_tokens(string name, string level)
    {
        var function = FunctionsSource.Functions.Single(f => FunctionsSource.Name(f) == name);
        var trigger = FunctionsSource.Trigger(function, "HttpTrigger")!.Value.Attribute;

        Assert.Equal($"AuthorizationLevel.{level}", FunctionsSource.Positional(trigger)[0].ToString());
    }
}
