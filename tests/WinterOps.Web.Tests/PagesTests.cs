using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using WinterOps.Functions.Web;
using WinterOps.LocalHost;
using WinterOps.Testing;

namespace WinterOps.Web.Tests;

/// <summary>The pages as HTTP: which functions are pages, what they answer, and that nothing comes from another host.</summary>
public partial class PagesTests
{
    private static readonly string[] PagePaths = ["/", "/dashboard", "/offers", "/returns", "/escalations", "/escalations/E1", "/placements", "/placements/PL1"];

    [Fact]
    public void PageRoutes_AreExactlyTheRoutesOfThePagesFunctions_WhichTheOpenApiDocumentLeavesOut()
    {
        var names = typeof(Pages).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(m => m.GetCustomAttribute<Microsoft.Azure.Functions.Worker.FunctionAttribute>()?.Name).OfType<string>().ToHashSet();
        var routes = LocalHostApp.Functions.Where(f => names.Contains(f.Name)).Select(f => ((LocalTrigger.Http)f.Trigger).Route);

        routes.Order(StringComparer.Ordinal).ShouldBe(Pages.Routes.Order(StringComparer.Ordinal));
        LocalHostApp.Functions.Where(f => names.Contains(f.Name)).ShouldAllBe(f => ((LocalTrigger.Http)f.Trigger).Methods.Count == 1 && ((LocalTrigger.Http)f.Trigger).Methods[0] == "get");
    }

    [Fact]
    public async Task EveryPage_IsAnAnonymousHtmlShell_WithTheNhsukFrontend_AndAPolicyThatAllowsThisOriginOnly()
    {
        await using var app = await TestApp.StartAsync();
        foreach (var path in PagePaths)
        {
            var response = await app.Client.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html", path);
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            csp.ShouldContain("script-src 'self'");
            csp.ShouldNotContain("unsafe-inline");
            var html = await response.Content.ReadAsStringAsync();
            html.ShouldContain("/web/lib/nhsuk-frontend.min.css");
            html.ShouldContain("<main class=\"nhsuk-main-wrapper\" id=\"maincontent\"");
            html.ShouldNotContain("{{");
            ExternalReferences().Matches(html).Select(m => m.Value).ShouldBeEmpty(path);
        }

        (await app.Client.GetAsync("/nowhere")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EveryAsset_IsServedFromThisApp_AndTheFrontendCssLoadsNoFontOrImageFromAnotherHost()
    {
        await using var app = await TestApp.StartAsync();
        var css = await app.Client.GetStringAsync("/web/lib/nhsuk-frontend.min.css");
        css.ShouldContain(".nhsuk-header");
        css.ShouldNotContain("@font-face");
        CssUrls().Matches(css).Select(m => m.Groups[1].Value).ShouldAllBe(u => u.StartsWith("/web/lib/nhsuk/images/", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal));
        foreach (var image in CssUrls().Matches(css).Select(m => m.Groups[1].Value).Where(u => u.StartsWith('/')).Distinct())
        {
            (await app.Client.GetAsync(image)).StatusCode.ShouldBe(HttpStatusCode.OK, image);
        }

        foreach (var asset in new[] { "/web/app.js", "/web/charts.js", "/web/winterops.css", "/web/lib/nhsuk-frontend.min.js", "/web/lib/chart.umd.min.js", "/web/lib/msal-browser.min.js", "/web/pages/dashboard.js" })
        {
            var response = await app.Client.GetAsync(asset);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, asset);
            response.Headers.ETag.ShouldNotBeNull(asset);
        }

        (await app.Client.GetAsync("/web/../appsettings.json")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.Client.GetAsync("/web/layout.html")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.Client.GetAsync("/web/lib/none.js")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SignIn_IsThePickerInDevelopment_AndEntraThroughMsalElsewhere()
    {
        await using (var development = await TestApp.StartAsync())
        {
            var html = WebUtility.HtmlDecode(await development.Client.GetStringAsync("/"));
            html.ShouldContain("""{"mode":"development"}""");
        }

        await using var production = await TestApp.StartAsync(environment: "Production", configure: b => b.Configuration["Web:ClientId"] = "11111111-2222-3333-4444-555555555555");
        var response = await production.Client.GetAsync("/dashboard");
        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        page.ShouldContain("\"mode\":\"entra\"");
        page.ShouldContain("\"clientId\":\"11111111-2222-3333-4444-555555555555\"");
        page.ShouldContain("\"authority\":\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\"");
        page.ShouldContain("\"scope\":\"api://winterops-test/.default\"");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("connect-src 'self' https://login.microsoftonline.com");
        (await production.Client.PostAsync("/api/dev/token", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [GeneratedRegex("""(?:src|href)="(?![/#])[^"]*""")]
    private static partial Regex ExternalReferences();

    [GeneratedRegex("""url\(["']?([^)"']*)""")]
    private static partial Regex CssUrls();
}
