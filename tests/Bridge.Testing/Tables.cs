using Azure.Data.Tables;

namespace Bridge.Testing;

/// <summary>Cleans up the tables tests create.</summary>
public static class Tables
{
    public static Task DeleteIfExistsAsync(string connectionString, string table) =>
        new TableClient(connectionString, table).DeleteAsync();
}
