using Azure.Data.Tables;

namespace Bridge.TableStorage.Tests;

/// <summary>Cleans up the tables tests create.</summary>
internal static class Tables
{
    public static Task DeleteIfExistsAsync(string connectionString, string table) =>
        new TableClient(connectionString, table).DeleteAsync();
}
