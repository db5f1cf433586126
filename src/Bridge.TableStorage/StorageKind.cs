namespace Bridge.TableStorage;

/// <summary>The <c>kind</c> tags of <c>bridge.storage.transactions</c>: what each request to Table storage was for.</summary>
internal static class StorageKind
{
    /// <summary>An entity group transaction that committed events.</summary>
    public static readonly KeyValuePair<string, object?> Commit = new("kind", "commit");

    /// <summary>A transaction refused because another writer committed first.</summary>
    public static readonly KeyValuePair<string, object?> Conflict = new("kind", "conflict");

    /// <summary>A writer adding itself to the head's list of rival writers, so that they take turns.</summary>
    public static readonly KeyValuePair<string, object?> Announce = new("kind", "announce");

    /// <summary>
    /// Retention's requests: a transaction deleting events, the claim of the ids it may remove, and a reader's look at
    /// that claim when it finds ids missing.
    /// </summary>
    public static readonly KeyValuePair<string, object?> Prune = new("kind", "prune");

    /// <summary>A read of a stream's head row.</summary>
    public static readonly KeyValuePair<string, object?> ReadHead = new("kind", "read-head");

    /// <summary>A page of a query over event rows (replay, a tail catching up, a writer learning keys).</summary>
    public static readonly KeyValuePair<string, object?> Query = new("kind", "query");

    /// <summary>Creating the events table, once per process (again if the table is deleted).</summary>
    public static readonly KeyValuePair<string, object?> CreateTable = new("kind", "create-table");
}
