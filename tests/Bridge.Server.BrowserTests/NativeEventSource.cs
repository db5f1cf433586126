using System.Text.Json;
using Microsoft.Playwright;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// A native EventSource opened inside a page (of the server's origin), with a recorder of what the browser does:
/// every event, every open, every error, timed with <c>performance.now()</c>.
/// </summary>
internal sealed class NativeEventSource(IPage page)
{
    /// <summary>
    /// Opens <paramref name="path"/>, recording <c>message</c> and <c>bridge.gap</c> events and those of
    /// <paramref name="types"/>, each with the stream the last <c>bridge.stream</c> event named (null before any).
    /// </summary>
    public static async Task<NativeEventSource> OpenAsync(IPage page, Uri server, string path, params string[] types)
    {
        // Any page of the server's origin will do; the health document keeps the demo page's own connection out of it.
        await page.GotoAsync(new Uri(server, "/api/health").ToString());
        await page.EvaluateAsync(
            """
            ({ url, types }) => {
              const log = { events: [], opens: [], errors: [] };
              const source = new EventSource(url);
              let stream = null;
              // Ids are "<number>.<epoch>"; the epoch stays the same in these tests, so the number is what is compared.
              const record = (e) => log.events.push({ id: e.lastEventId.split('.')[0], type: e.type, data: e.data, stream });
              source.onopen = () => log.opens.push(performance.now());
              source.onerror = () => log.errors.push({ at: performance.now(), readyState: source.readyState });
              source.onmessage = record;
              source.addEventListener('bridge.gap', record);
              source.addEventListener('bridge.stream', (e) => { stream = e.data; });
              for (const type of types) source.addEventListener(type, record);
              window.__sse = log;
              window.__source = source;
            }
            """,
            new { url = path, types });
        return new NativeEventSource(page);
    }

    public Task WaitForEventsAsync(int count) =>
        page.WaitForFunctionAsync("n => window.__sse.events.length >= n", count);

    public Task WaitForOpenAsync() => page.WaitForFunctionAsync("() => window.__sse.opens.length > 0");

    public async Task<Log> ReadAsync()
    {
        var log = await page.EvaluateAsync<JsonElement>("() => window.__sse");
        return new Log(
            [.. log.GetProperty("events").EnumerateArray().Select(e => new Received(e.GetProperty("id").GetString()!, e.GetProperty("type").GetString()!, e.GetProperty("data").GetString()!, e.GetProperty("stream").GetString()))],
            [.. log.GetProperty("opens").EnumerateArray().Select(e => e.GetDouble())],
            [.. log.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("at").GetDouble())]);
    }

    public sealed record Received(string Id, string Type, string Data, string? Stream);

    public sealed record Log(IReadOnlyList<Received> Events, IReadOnlyList<double> Opens, IReadOnlyList<double> Errors);
}
