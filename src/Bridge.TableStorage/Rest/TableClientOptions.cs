using Azure.Core;

namespace Bridge.TableStorage.Rest;

/// <summary>Options for <see cref="TableClient"/>: retries, diagnostics and transport, from Azure.Core.</summary>
public sealed class TableClientOptions : ClientOptions
{
    /// <summary>The Table service REST API version sent as <c>x-ms-version</c>.</summary>
    public string ServiceVersion { get; set; } = "2019-02-02";
}
