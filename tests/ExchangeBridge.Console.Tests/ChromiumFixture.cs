using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ExchangeBridge.Console.Tests;

/// <summary>
/// Headless Chromium from the system's package (Debian's <c>chromium</c>, which <c>.ci/run</c> installs; another build by
/// <c>EXBRIDGE_CHROMIUM</c>), driven by Playwright: nothing is downloaded. One browser for a test class; each test opens
/// its own context (cookies and all) at 1280×800.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("EXBRIDGE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"no Chromium at {ExecutablePath}: apt-get install chromium (as .ci/run does), or set EXBRIDGE_CHROMIUM");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true });
        // A loaded machine (CI shares two cores) may take a while to import: every wait is on a condition, bounded by this.
        Assertions.SetDefaultExpectTimeout(60_000);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        return await context.NewPageAsync();
    }
}

/// <summary>What every page of the console is checked for, and kept as: axe finds nothing serious, and a screenshot.</summary>
public static class ConsolePages
{
    /// <summary>The screenshots' folder, kept by the test run as its artifacts (TestResults is not committed).</summary>
    public static string ScreenshotFolder => Path.Combine(ServerProcess.RepositoryRoot, "tests", "ExchangeBridge.Console.Tests", "TestResults", "screenshots");

    /// <summary>No serious or critical axe violation on the page as it stands, then its screenshot at the context's 1280×800.</summary>
    public static async Task AssertAccessibleAndShootAsync(IPage page, string name, ITestOutputHelper output)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{name}: " + string.Join("; ", serious.Select(v =>
            $"{v.Id} ({v.Impact}) {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        output.WriteLine($"screenshot: {path}");
        System.Console.WriteLine($"screenshot: {path}");
    }
}
