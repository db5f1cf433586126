using Azure;
using Bridge.TableStorage.Rest;
using Bridge.Testing;

namespace Bridge.TableStorage.Tests.Rest;

/// <summary>The REST client against real Azurite, and Azure's limits that Azurite itself does not enforce.</summary>
public class TableClientTests : IAsyncLifetime
{
    private TableClient _table = null!;

    public async Task InitializeAsync()
    {
        var azurite = await AzuriteProcess.Shared;
        _table = new TableClient(azurite.ConnectionString, TestNames.Table());
        await _table.CreateIfNotExistsAsync();
    }

    public Task DisposeAsync() => Tables.DeleteIfExistsAsync(_table);

    [Fact]
    public async Task Creating_an_existing_table_is_not_an_error()
    {
        var again = await _table.CreateIfNotExistsAsync();

        Assert.Equal(409, again.Status);
    }

    [Fact]
    public async Task A_transaction_of_100_operations_commits_and_returns_every_etag()
    {
        var transaction = _table.CreateTransaction("p");
        for (var i = 0; i < 100; i++)
        {
            Assert.True(transaction.TryAddInsert(Entity("p", $"r{i:D3}")));
        }

        var etags = await _table.SubmitTransactionAsync(transaction);

        Assert.Equal(100, etags.Value.Count);
        Assert.All(etags.Value, etag => Assert.NotNull(etag));
    }

    [Fact]
    public void The_101st_operation_does_not_fit()
    {
        var transaction = _table.CreateTransaction("p");
        for (var i = 0; i < 100; i++)
        {
            transaction.TryAddInsert(Entity("p", $"r{i:D3}"));
        }

        Assert.False(transaction.TryAddInsert(Entity("p", "r100")));
        Assert.Equal(100, transaction.Count);
    }

    [Fact]
    public void A_second_partition_is_refused_although_azurite_would_accept_it()
    {
        var transaction = _table.CreateTransaction("p");

        var error = Assert.Throws<TableLimitExceededException>(() => transaction.TryAddInsert(Entity("other", "r")));
        Assert.Contains("one partition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_over_4_MiB_does_not_fit()
    {
        var transaction = _table.CreateTransaction("p");
        var added = 0;
        while (transaction.TryAddInsert(new TableEntityWriter("p", $"r{added:D3}").WriteBinary("Data", new byte[60 * 1024]).ToEntity()))
        {
            added++;
        }

        Assert.InRange(transaction.BodyLength, 4 * 1024 * 1024 - (100 * 1024), TableLimits.MaxTransactionBodyBytes);
        Assert.True(added < 100, "The byte limit, not the operation limit, stopped the transaction.");
    }

    [Fact]
    public void Property_entity_and_key_limits_are_enforced_before_sending()
    {
        Assert.Throws<TableLimitExceededException>(() => new TableEntityWriter("p", "r").WriteBinary("Big", new byte[(64 * 1024) + 1]));
        Assert.Throws<TableLimitExceededException>(() => new TableEntityWriter("p", "r").WriteString("Big", new string('x', (32 * 1024) + 1)));
        Assert.Throws<TableLimitExceededException>(() => new TableEntityWriter("p/q", "r"));
        Assert.Throws<TableLimitExceededException>(() => new TableEntityWriter("p", new string('r', 513)));

        var writer = new TableEntityWriter("p", "r");
        var error = Assert.Throws<TableLimitExceededException>(() =>
        {
            for (var i = 0; i < 17; i++)
            {
                writer.WriteBinary($"D{i}", new byte[64 * 1024]);
            }
        });
        Assert.Contains("1048576", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_etag_fails_the_whole_transaction_with_412_at_its_index()
    {
        var create = _table.CreateTransaction("p");
        create.TryAddInsert(Entity("p", "head"));
        var etag = (await _table.SubmitTransactionAsync(create)).Value[0]!.Value;
        var update = _table.CreateTransaction("p");
        update.TryAddReplace(Entity("p", "head"), etag);
        await _table.SubmitTransactionAsync(update);

        var stale = _table.CreateTransaction("p");
        stale.TryAddInsert(Entity("p", "x"));
        stale.TryAddReplace(Entity("p", "head"), etag);
        var failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => _table.SubmitTransactionAsync(stale));

        Assert.Equal(412, failure.Status);
        Assert.Equal(1, failure.FailedOperationIndex);
        Assert.False((await _table.GetEntityIfExistsAsync("p", "x", _ => true)).HasValue, "The insert was rolled back.");
    }

    [Fact]
    public async Task A_query_pages_with_continuation_tokens_past_1000_rows()
    {
        for (var batch = 0; batch < 13; batch++)
        {
            var transaction = _table.CreateTransaction("paged");
            for (var i = 0; i < 100; i++)
            {
                transaction.TryAddInsert(Entity("paged", $"r{(batch * 100) + i:D5}"));
            }

            await _table.SubmitTransactionAsync(transaction);
        }

        var pages = new List<int>();
        await foreach (var page in _table.QueryAsync("PartitionKey eq 'paged'", ["RowKey"], null, row => row.GetProperty("RowKey").GetString()!).AsPages())
        {
            pages.Add(page.Values.Count);
        }

        Assert.Equal(1300, pages.Sum());
        Assert.True(pages.Count >= 2);
    }

    [Fact]
    public async Task A_missing_entity_is_no_value_not_an_error()
    {
        var missing = await _table.GetEntityIfExistsAsync("p", "absent", _ => 1);

        Assert.False(missing.HasValue);
        Assert.Equal(404, missing.GetRawResponse().Status);
    }

    [Fact]
    public async Task An_unsigned_or_wrongly_signed_request_fails_with_the_services_error_code()
    {
        var azurite = await AzuriteProcess.Shared;
        var wrongKey = new TableClient(
            new Uri($"http://127.0.0.1:{azurite.Port}/devstoreaccount1"),
            _table.Name,
            new AzureNamedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64])));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => wrongKey.GetTableAsync());

        Assert.Equal(403, error.Status);
        Assert.NotNull(error.ErrorCode);
    }

    private static TableEntity Entity(string partition, string row) => new TableEntityWriter(partition, row).WriteString("V", "x").ToEntity();
}
