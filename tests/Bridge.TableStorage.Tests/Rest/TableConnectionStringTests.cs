using Bridge.TableStorage.Rest;

namespace Bridge.TableStorage.Tests.Rest;

public class TableConnectionStringTests
{
    [Fact]
    public void Development_storage_points_at_azurite_with_the_well_known_account()
    {
        var parsed = TableConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), parsed.TableEndpoint);
        Assert.Equal("devstoreaccount1", parsed.Credential.Name);
    }

    [Fact]
    public void An_account_key_string_builds_the_public_endpoint_from_protocol_and_suffix()
    {
        var parsed = TableConnectionString.Parse("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal(new Uri("https://acme.table.core.chinacloudapi.cn"), parsed.TableEndpoint);
        Assert.Equal("acme", parsed.Credential.Name);
    }

    [Fact]
    public void An_explicit_table_endpoint_wins()
    {
        var parsed = TableConnectionString.Parse("AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:12345/devstoreaccount1/");

        Assert.Equal(new Uri("http://127.0.0.1:12345/devstoreaccount1"), parsed.TableEndpoint);
    }

    [Theory]
    [InlineData("AccountName=acme", "AccountKey")]
    [InlineData("AccountKey=c2VjcmV0LWtleQ==", "AccountName")]
    [InlineData("AccountName=acme;AccountKey=c2VjcmV0LWtleQ==;SharedAccessSignature=sv=2020&sig=abc", "SharedAccessSignature")]
    [InlineData("just-some-text", "Name=Value")]
    public void A_bad_string_is_refused_with_a_message_that_never_repeats_the_secret(string connectionString, string mentioned)
    {
        var error = Assert.Throws<FormatException>(() => TableConnectionString.Parse(connectionString));

        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleQ==", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=abc", error.Message, StringComparison.Ordinal);
    }
}

public class TableClientConstructionTests
{
    [Theory]
    [InlineData("ab")]
    [InlineData("1table")]
    [InlineData("has-dash")]
    [InlineData("")]
    public void An_invalid_table_name_is_refused_before_any_request(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new TableClient("UseDevelopmentStorage=true", name));
        Assert.Contains("3 to 63", error.Message, StringComparison.Ordinal);
    }
}
