using Azure;
using Bridge.TableStorage.Rest;

namespace Bridge.Testing;

/// <summary>Cleans up the tables tests create.</summary>
public static class Tables
{
    public static Task DeleteIfExistsAsync(string connectionString, string table) =>
        DeleteIfExistsAsync(new TableClient(connectionString, table));

    public static async Task DeleteIfExistsAsync(TableClient table)
    {
        try
        {
            await table.DeleteAsync();
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // Never created.
        }
    }
}
