using Bridge.DevKit;
using Bridge.Testing;

namespace Bridge.Server.BrowserTests;

/// <summary>The fetch() example client: it parses SSE, keeps Last-Event-ID and reconnects after the retry hint.</summary>
[Collection(ChromiumCollection.Name)]
public class FetchClientTests(Chromium chromium)
{
    [Fact]
    public async Task The_fetch_client_resumes_across_server_closes_with_nothing_lost_or_repeated()
    {
        var azurite = await AzuriteProcess.Shared;
        await using var server = await BridgeServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Sse__MaxDurationSeconds"] = "2",
            ["Sse__RetryMilliseconds"] = "300",
        });
        var stream = TestNames.Stream("browser-fetch");
        var page = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.BaseAddress, $"/fetch-client.html?stream={stream}&lastEventId=0").ToString());
        await page.Locator("body[data-state=open]").WaitForAsync();

        // Publish steadily until the client has reconnected after at least two server-initiated closes (bounded).
        var total = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (int.Parse(await page.InnerTextAsync("#reconnects"), System.Globalization.CultureInfo.InvariantCulture) < 2 && total < 400)
        {
            total++;
            await Publisher.PublishAsync(server.Client, stream, $"line one {total}\r\nline two", type: total % 2 == 0 ? "even" : null);
            await Task.Delay(100, deadline.Token);
        }

        await page.WaitForFunctionAsync("n => Number(document.getElementById('received').textContent) >= n", total);
        var ids = await page.EvalOnSelectorAllAsync<string[]>("#events li", "items => items.map(i => i.dataset.id).reverse()");
        var types = await page.EvalOnSelectorAllAsync<string[]>("#events li", "items => items.map(i => i.dataset.type).reverse()");
        var data = await page.EvalOnSelectorAllAsync<string[]>("#events li .data", "items => items.map(i => i.textContent).reverse()");
        Assert.Equal(Enumerable.Range(1, total).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), ids);
        Assert.Equal(Enumerable.Range(1, total).Select(i => i % 2 == 0 ? "even" : "message"), types);
        Assert.All(data.Select((text, i) => (text, i)), pair => Assert.Equal($"line one {pair.i + 1}\nline two", pair.text));
    }
}
