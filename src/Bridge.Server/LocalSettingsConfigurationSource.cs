using System.Text.Json;

namespace Bridge.Server;

/// <summary>
/// Reads the <c>Values</c> of an Azure Functions <c>local.settings.json</c> as configuration, so one file configures
/// both this server and the Functions app. As in Functions, <c>__</c> in a name separates sections
/// (<c>Sse__HeartbeatSeconds</c> is <c>Sse:HeartbeatSeconds</c>). A missing file is not an error.
/// </summary>
internal sealed class LocalSettingsConfigurationSource(string path) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(path);

    private sealed class Provider(string path) : ConfigurationProvider
    {
        public override void Load()
        {
            if (!File.Exists(path))
            {
                return;
            }

            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!document.RootElement.TryGetProperty("Values", out var values) || values.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var setting in values.EnumerateObject())
            {
                Data[setting.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] =
                    setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString() : setting.Value.GetRawText();
            }
        }
    }
}
