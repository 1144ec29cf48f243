using System.Collections.Frozen;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Primitives;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Web;

/// <summary>
/// The web pages (web/ at the repo root, copied into the build output with the NHS.UK frontend, Chart.js and
/// MSAL from node_modules). Every page is an anonymous HTML shell: the data comes from the public API, called
/// by the page's script with the bearer token the browser holds. Pages are not part of the API contract
/// (docs/openapi.yaml): <see cref="Routes"/> lists them, and the OpenAPI test leaves exactly those out.
/// </summary>
public static partial class Pages
{
    /// <summary>The routes of the page and asset functions in this class (a test checks it against the functions).</summary>
    public static IReadOnlyList<string> Routes { get; } =
        [Root, "dashboard", "offers", "returns", "escalations", "escalations/{id}", "placements", "placements/{id}", "web/{*path}"];

    /// <summary>The site's root: an optional route value that must be empty, so only "/" matches, in both hosts.</summary>
    public const string Root = "{ignored:maxlength(0)?}";

    [Function("HomePage")]
    public static Task HomePage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Root)] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "home", "WinterOps"));

    [Function("DashboardPage")]
    public static Task DashboardPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "dashboard", "System dashboard"));

    [Function("OffersPage")]
    public static Task OffersPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "offers")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "offers", "Placement offers"));

    [Function("ReturnsPage")]
    public static Task ReturnsPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "returns")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "returns", "Daily OPEL return"));

    [Function("EscalationsPage")]
    public static Task EscalationsPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "escalations")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "escalations", "Escalations"));

    [Function("EscalationPage")]
    public static Task EscalationPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "escalations/{id}")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "escalation", "Escalation"));

    [Function("PlacementsPage")]
    public static Task PlacementsPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "placements")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "placements", "Care-home placements"));

    [Function("PlacementPage")]
    public static Task PlacementPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "placements/{id}")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (HttpContext http) => Page(http, "placement", "Placement"));

    /// <summary>The pages' scripts, styles and images, and the npm packages' dist files under web/lib/.</summary>
    [Function("WebAsset")]
    public static Task WebAsset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "web/{*path}")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (string path, HttpContext http) => Asset(http, path));

    /// <summary>The folder the build copies web/ into.</summary>
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "web");

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
        [".json"] = "application/json",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every file the site serves, read once: only these paths answer (no path is ever joined onto the disk).</summary>
    private static readonly Lazy<FrozenDictionary<string, (byte[] Body, string ContentType, string ETag)>> Files = new(() =>
        Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories)
            .Select(file => (Path: Path.GetRelativePath(Folder, file).Replace('\\', '/'), File: file))
            .Where(f => !f.Path.EndsWith(".html", StringComparison.Ordinal) && ContentTypes.ContainsKey(Path.GetExtension(f.Path)))
            .ToFrozenDictionary(f => f.Path, f =>
            {
                var body = f.Path == NhsukCss ? System.Text.Encoding.UTF8.GetBytes(SameOrigin(File.ReadAllText(f.File))) : File.ReadAllBytes(f.File);
                return (body, ContentTypes[Path.GetExtension(f.Path)], $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))[..16]}\"");
            }, StringComparer.Ordinal));

    private const string NhsukCss = "lib/nhsuk-frontend.min.css";

    /// <summary>
    /// The NHS.UK frontend's compiled CSS, served from this app only: its <c>@font-face</c> rules load Frutiger from
    /// assets.nhs.uk (a licensed font the npm package does not ship), so they are left out and the frontend's own
    /// font stack falls back to Arial; its images are rebased from /assets/images/ to where this app serves them.
    /// </summary>
    public static string SameOrigin(string css) =>
        FontFace().Replace(css, "").Replace("url(/assets/images/", "url(/web/lib/nhsuk/images/", StringComparison.Ordinal);

    [GeneratedRegex(@"@font-face\{[^}]*\}")]
    private static partial Regex FontFace();

    private static readonly Lazy<string> Layout = new(() => File.ReadAllText(Path.Combine(Folder, "layout.html")));

    private static readonly Lazy<FrozenDictionary<string, string>> Mains = new(() =>
        Directory.EnumerateFiles(Path.Combine(Folder, "pages"), "*.html")
            .ToFrozenDictionary(f => Path.GetFileNameWithoutExtension(f), File.ReadAllText, StringComparer.Ordinal));

    private static IResult Page(HttpContext http, string name, string title)
    {
        SecurityHeaders(http.Response);
        http.Response.Headers.CacheControl = "no-cache";
        var html = Layout.Value
            .Replace("{{title}}", WebUtility.HtmlEncode(title), StringComparison.Ordinal)
            .Replace("{{page}}", name, StringComparison.Ordinal)
            .Replace("{{config}}", WebUtility.HtmlEncode(JsonSerializer.Serialize(SignIn(http))), StringComparison.Ordinal)
            .Replace("{{main}}", Mains.Value[name], StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>
    /// How the page signs people in. In Development with the development issuer on: the "sign in as" picker over
    /// POST /api/dev/token. Elsewhere: Entra, through MSAL in the browser, for the app registration
    /// (<c>Web__ClientId</c>, the SPA's client id; <c>Web__Scope</c>, default <c>{Auth__Audience}/.default</c>).
    /// </summary>
    public static object SignIn(HttpContext http)
    {
        var services = http.RequestServices;
        if (services.GetService<DevTokenIssuer>() is not null)
        {
            return new { mode = "development" };
        }

        var auth = services.GetRequiredService<AuthOptions>();
        var web = services.GetRequiredService<IConfiguration>().GetSection("Web");
        var authority = (auth.Authority ?? "").TrimEnd('/');
        authority = authority.EndsWith("/v2.0", StringComparison.OrdinalIgnoreCase) ? authority[..^"/v2.0".Length] : authority;
        return new
        {
            mode = "entra",
            clientId = web["ClientId"] ?? "",
            authority,
            scope = web["Scope"] ?? $"{auth.Audience}/.default",
            roleClaim = auth.RoleClaim,
            orgClaim = auth.OrgClaim,
            nameClaim = auth.NameClaim,
        };
    }

    private static IResult Asset(HttpContext http, string path)
    {
        if (!Files.Value.TryGetValue(path, out var file))
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found.", detail: $"There is no asset '{path}'.");
        }

        SecurityHeaders(http.Response);
        http.Response.Headers.ETag = file.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        return http.Request.Headers.IfNoneMatch == file.ETag ? Results.StatusCode(StatusCodes.Status304NotModified) : Results.Bytes(file.Body, file.ContentType);
    }

    /// <summary>Scripts, styles, images and API calls from this app only; in Azure, MSAL also talks to the Entra authority.</summary>
    private static void SecurityHeaders(HttpResponse response)
    {
        var entra = response.HttpContext.RequestServices.GetService<DevTokenIssuer>() is null ? " https://login.microsoftonline.com" : "";
        response.Headers.ContentSecurityPolicy = new StringValues(
            $"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{entra}; "
            + $"frame-src 'self'{entra}; frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com; base-uri 'self'; form-action 'self'");
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
    }
}
