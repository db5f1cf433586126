using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Playwright;

namespace Bridge.Server.BrowserTests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright, shared by the browser tests (which run one at a time). Playwright's
/// own browser download does not work here, so the system binary is used; <c>scripts/test.sh</c> installs it.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private static readonly string[] Flags =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

    private IPlaywright _playwright = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: <c>artifacts/screenshots</c>, which git ignores.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("BRIDGE_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Chromium is not at {executable}. Install Debian's package (apt-get install chromium; scripts/test.sh does) or set BRIDGE_CHROMIUM.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = executable, Args = Flags });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    /// <summary>
    /// A page in a fresh context (its own cookies, cache and connections); with <paramref name="trustAnyCertificate"/>,
    /// one that accepts a test's self-signed certificate.
    /// </summary>
    public async Task<IPage> NewPageAsync(ViewportSize? viewport = null, bool trustAnyCertificate = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = viewport, IgnoreHTTPSErrors = trustAnyCertificate });
        context.SetDefaultTimeout(60_000);
        return await context.NewPageAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<Chromium>
{
    public const string Name = "Chromium";
}
