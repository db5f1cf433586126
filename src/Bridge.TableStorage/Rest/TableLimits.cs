namespace Bridge.TableStorage.Rest;

/// <summary>
/// Azure Table Storage's documented limits. They are enforced here, before a request is sent, because Azurite does
/// not enforce all of them and local runs must not hide requests that Azure would refuse.
/// </summary>
public static class TableLimits
{
    /// <summary>Operations in one entity group transaction.</summary>
    public const int MaxTransactionOperations = 100;

    /// <summary>Bytes in one entity group transaction's request body (4 MiB).</summary>
    public const int MaxTransactionBodyBytes = 4 * 1024 * 1024;

    /// <summary>Size of one entity (1 MiB), as Azure counts it; see <see cref="TableEntityWriter"/>.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>Bytes in one binary property (64 KiB).</summary>
    public const int MaxBinaryPropertyBytes = 64 * 1024;

    /// <summary>UTF-16 characters in one string property (64 KiB).</summary>
    public const int MaxStringPropertyChars = 32 * 1024;

    /// <summary>Properties per entity, besides PartitionKey, RowKey and Timestamp.</summary>
    public const int MaxCustomProperties = 252;

    /// <summary>UTF-16 characters in a PartitionKey or RowKey (1 KiB).</summary>
    public const int MaxKeyChars = 512;

    /// <summary>Rows returned by one query page.</summary>
    public const int MaxPageSize = 1000;
}

/// <summary>
/// A request would break one of Azure Table Storage's limits, so it was not sent. The message names the limit.
/// </summary>
public sealed class TableLimitExceededException(string message) : ArgumentException(message);
