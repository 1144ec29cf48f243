using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using WinterOps.Testing;

namespace WinterOps.Web.Tests;

/// <summary>
/// The real app in the local host on Azurite with the demo data seeded, and Debian's chromium driven by
/// Microsoft.Playwright. The browser is the system's (<c>/usr/bin/chromium</c>, or <c>WINTEROPS_CHROMIUM</c>):
/// Playwright never downloads one. Screenshots go to this project's TestResults/screenshots.
/// </summary>
public sealed class WebApp : IAsyncLifetime
{
    public static string Chromium { get; } = Environment.GetEnvironmentVariable("WINTEROPS_CHROMIUM") ?? "/usr/bin/chromium";

    public static string Screenshots { get; } = Path.Combine(AzuriteServer.RepoRoot(), "tests", "WinterOps.Web.Tests", "TestResults", "screenshots");

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        File.Exists(Chromium).ShouldBeTrue($"{Chromium} is missing: ./test.sh installs Debian's chromium (apt-get install chromium).");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(Screenshots);
        Assertions.SetDefaultExpectTimeout(30_000); // what a page shows may take a while when the whole suite shares 2 cores
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>
    /// An app of the test's own (its own tables and task hub) with the demo ICS seeded, so one test's returns or
    /// placements never change what another sees. The timers and engine queues run, as under ./run.sh.
    /// </summary>
    public static async Task<TestApp> StartAppAsync()
    {
        var app = await TestApp.StartAsync(localTriggers: true, configure: b => b.Configuration["Demo:Seed"] = "true");
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        for (var i = 0; i < 300 && (await coordinator.GetFromJsonAsync<JsonElement>("/api/care-homes")).GetArrayLength() < 32; i++)
        {
            await Task.Delay(100); // the demo seed runs as the app starts
        }

        return app;
    }

    /// <summary>A new browser tab that signs in through the page's own "sign in as" picker and lands on <paramref name="path"/>.</summary>
    public async Task<IPage> SignedInAsync(TestApp app, string role, string org, string name, string path)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.Client.BaseAddress!.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-GB",
            TimezoneId = "Europe/London",
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000); // generous: the whole suite shares 2 cores
        await page.GotoAsync($"/?next={Uri.EscapeDataString(path)}");
        await page.GetByLabel("Role").SelectOptionAsync(role);
        await page.GetByLabel("Organisation").FillAsync(org);
        await page.GetByLabel("Your name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        try
        {
            // Polled (page.Url), not WaitForURL: a navigation that commits while WaitForURL sets up its waiter was missed now and then.
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"^[^?]*{Regex.Escape(path.Split('?')[0])}$"));
        }
        catch (PlaywrightException e)
        {
            await ScreenshotAsync(page, $"sign-in-failed-{role}");
            throw new TimeoutException($"Signing in as {role} {org} did not reach {path}; the page at {page.Url} says: {await page.Locator("main").InnerTextAsync()}", e);
        }

        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"{name}.png"), FullPage = true });

    /// <summary>axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on the page as it is now: no violations.</summary>
    public static async Task ShouldBeAccessibleAsync(IPage page)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
        });
        result.Violations.ShouldBeEmpty(string.Join("\n", result.Violations.Select(v =>
            $"{v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}")));
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<WebApp>
{
    public const string Name = "web";
}
