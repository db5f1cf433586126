using System.Net.Http.Json;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bridge.ServiceBus.Tests;

/// <summary>The settings that turn ingest on, and what an operator sees when they are wrong.</summary>
public sealed class IngestSettingsTests
{
    [Fact]
    public async Task A_connection_without_a_topic_stops_the_server_with_a_message_naming_the_settings()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => BridgeTestServer.StartOnSharedAzuriteAsync(
            ("ServiceBusConnection", LocalServiceBusProcess.ConnectionStringFor(FreePort.Next())),
            ("ServiceBusTopic", ""),
            ("ServiceBusSubscription", "bridge")));

        Assert.Contains("ServiceBusTopic and ServiceBusSubscription must name", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_repeating_its_key()
    {
        var configuration = Configuration(("ServiceBusConnection", "SharedAccessKey=secret-key-value;NoEndpoint=here"));

        var failure = Assert.Throws<InvalidOperationException>(() => ServiceBusConnection.CreateClient(configuration, new ServiceBusClientOptions(), Credentials()));

        Assert.Contains("ServiceBusConnection is not a Service Bus connection string", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key-value", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_identity_based_connection_names_the_namespace_as_the_Functions_trigger_reads_it()
    {
        var configuration = Configuration(
            ("ServiceBusConnection:fullyQualifiedNamespace", "contoso.servicebus.windows.net"),
            ("ServiceBusConnection:credential", "managedidentity"),
            ("ServiceBusConnection:clientId", "00000000-0000-0000-0000-000000000001"));

        await using var client = ServiceBusConnection.CreateClient(configuration, new ServiceBusClientOptions(), Credentials());

        Assert.True(ServiceBusConnection.IsConfigured(configuration));
        Assert.Equal("contoso.servicebus.windows.net", client.FullyQualifiedNamespace);
        Assert.False(ServiceBusConnection.IsConfigured(Configuration(("ServiceBusConnection", ""))));
    }

    [Fact]
    public async Task A_subscription_that_does_not_exist_shows_as_degraded_health_while_HTTP_keeps_working()
    {
        await using var path = await IngestPath.StartAsync();
        await using var server = await BridgeTestServer.StartOnSharedAzuriteAsync(
            ("ServiceBusConnection", path.Endpoint.ConnectionString),
            ("ServiceBusTopic", IngestPath.Topic),
            ("ServiceBusSubscription", "no-such-subscription"));

        JsonElement check = default;
        await Waits.Eventually(() =>
        {
            var health = server.Client.GetFromJsonAsync<JsonElement>("/api/health").GetAwaiter().GetResult();
            check = health.GetProperty("checks").GetProperty("servicebus");
            return check.GetProperty("status").GetString() == "Degraded";
        }, seconds: 30);

        Assert.Contains("MessagingEntityNotFound", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await Api.PublishIdAsync(server.Client, TestNames.Stream("still-served"), "x"));
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    private static AzureComponentFactory Credentials()
    {
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        return services.BuildServiceProvider().GetRequiredService<AzureComponentFactory>();
    }
}
