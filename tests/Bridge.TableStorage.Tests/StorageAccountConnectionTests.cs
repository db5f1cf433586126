using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Data.Tables.Sas;
using Azure.Identity;
using Bridge.Events;
using Bridge.DevKit;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.TableStorage.Tests;

/// <summary>
/// Every form of <c>AzureWebJobsStorage</c> that Azure Functions accepts, read through the same registration the
/// hosts use (<c>AddTableEventLog</c>); each form that can run here is used against real Azurite.
/// </summary>
public class StorageAccountConnectionTests
{
    [Fact]
    public async Task A_connection_string_with_an_account_key_works()
    {
        var azurite = await AzuriteProcess.Shared;

        await AssertAppendsAndReadsAsync(new() { ["AzureWebJobsStorage"] = azurite.ConnectionString });
    }

    [Fact]
    public async Task A_connection_string_with_a_sas_works()
    {
        var azurite = await AzuriteProcess.Shared;

        await AssertAppendsAndReadsAsync(new() { ["AzureWebJobsStorage"] = SasConnectionString(azurite, TableAccountSasPermissions.All) });
    }

    [Fact]
    public async Task A_sas_that_may_not_create_tables_works_on_an_existing_table()
    {
        var azurite = await AzuriteProcess.Shared;
        var table = new TableClient(azurite.ConnectionString, TestNames.Table());
        await table.CreateAsync();
        var withoutCreate = TableAccountSasPermissions.Read | TableAccountSasPermissions.Add | TableAccountSasPermissions.Update | TableAccountSasPermissions.List;

        await AssertAppendsAndReadsAsync(new() { ["AzureWebJobsStorage"] = SasConnectionString(azurite, withoutCreate) }, table.Name);
    }

    [Fact]
    public async Task A_sas_that_storage_refuses_fails_as_storage_unavailable_not_as_an_sdk_exception()
    {
        var azurite = await AzuriteProcess.Shared;
        var forged = System.Text.RegularExpressions.Regex.Replace(SasConnectionString(azurite, TableAccountSasPermissions.All), "sig=[^&;]+", "sig=AAAA");
        await using var provider = Provider(new()
        {
            ["AzureWebJobsStorage"] = forged,
            ["Storage:EventsTable"] = TestNames.Table(),
        });
        var log = provider.GetRequiredService<IEventLog>();

        var append = await Assert.ThrowsAsync<EventLogUnavailableException>(() => log.AppendAsync(StreamName.Parse("s"), [EventLogs.Text("x")]));
        var head = await Assert.ThrowsAsync<EventLogUnavailableException>(() => log.GetHeadAsync(StreamName.Parse("s")));

        Assert.All([append, head], failure => Assert.Contains("answered 403", failure.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Development_storage_means_azurite_on_its_default_port()
    {
        // UseDevelopmentStorage=true means 127.0.0.1:10002. Start Azurite there unless one already runs there (a
        // developer's, from scripts/run.sh); the test's table is unique and deleted afterwards either way.
        await using var started = AzuriteAnswersOn(10002) ? null : await AzuriteProcess.StartAsync(port: 10002);

        await AssertAppendsAndReadsAsync(new() { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" });
        await AssertAppendsAndReadsAsync([]);
    }

    [Fact]
    public void Identity_based_settings_name_the_endpoint_and_the_credential_as_functions_reads_them()
    {
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<AzureComponentFactory>();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ByAccount:accountName"] = "bridgedata",
            ["ByAccount:credential"] = "managedidentity",
            ["ByAccount:clientId"] = "00000000-0000-0000-0000-00000000abcd",
            ["ByUri:tableServiceUri"] = "https://bridgedata.table.core.usgovcloudapi.net",
        }).Build();

        var byAccount = StorageAccountConnection.IdentityBased(configuration.GetSection("ByAccount"), factory);
        var byUri = StorageAccountConnection.IdentityBased(configuration.GetSection("ByUri"), factory);

        Assert.Equal(new Uri("https://bridgedata.table.core.windows.net"), byAccount!.Value.Endpoint);
        Assert.IsType<ManagedIdentityCredential>(byAccount.Value.Credential);
        Assert.Equal(new Uri("https://bridgedata.table.core.usgovcloudapi.net"), byUri!.Value.Endpoint);
        Assert.IsType<DefaultAzureCredential>(byUri.Value.Credential);
        Assert.Null(StorageAccountConnection.IdentityBased(configuration.GetSection("Nothing"), factory));
    }

    [Fact]
    public async Task A_malformed_connection_string_stops_with_a_message_that_does_not_repeat_it()
    {
        const string secret = "AccountKey=c2VjcmV0LWtleQ==;Nonsense";
        await using var provider = Provider(new() { ["AzureWebJobsStorage"] = secret });

        var failure = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IEventLog>());

        Assert.Contains("AzureWebJobsStorage", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", failure.ToString(), StringComparison.Ordinal);
    }

    private static async Task AssertAppendsAndReadsAsync(Dictionary<string, string?> settings, string? existingTable = null)
    {
        var table = existingTable ?? TestNames.Table();
        settings["Storage:EventsTable"] = table;
        await using var provider = Provider(settings);
        var log = provider.GetRequiredService<IEventLog>();
        var stream = StreamName.Parse(TestNames.Stream("connection"));
        try
        {
            await log.AppendAsync(stream, [EventLogs.Text("a"), EventLogs.Text("b", key: "k")]);

            Assert.Equal(["a", "b"], (await EventLogs.ReadAllAsync(log, stream)).Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span)));
        }
        finally
        {
            var account = settings.GetValueOrDefault("AzureWebJobsStorage") is { Length: > 0 } connection && connection.Contains("SharedAccessSignature", StringComparison.Ordinal)
                ? new TableServiceClient((await AzuriteProcess.Shared).ConnectionString)
                : provider.GetRequiredService<TableServiceClient>();
            await account.DeleteTableAsync(table);
        }
    }

    /// <summary>A connection string with an account SAS for <paramref name="azurite"/>, signed with its key.</summary>
    private static string SasConnectionString(AzuriteProcess azurite, TableAccountSasPermissions permissions)
    {
        var sas = new TableServiceClient(azurite.ConnectionString)
            .GenerateSasUri(permissions, TableAccountSasResourceTypes.All, DateTimeOffset.UtcNow.AddHours(1))
            .Query.TrimStart('?');
        return $"TableEndpoint=http://127.0.0.1:{azurite.Port}/{AzuriteProcess.DevelopmentAccountName};SharedAccessSignature={sas}";
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddTableEventLog(configuration);
        return services.BuildServiceProvider();
    }

    private static bool AzuriteAnswersOn(int port)
    {
        using var probe = new TcpClient();
        try
        {
            probe.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
