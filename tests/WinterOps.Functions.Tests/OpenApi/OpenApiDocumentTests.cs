using System.Net;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using WinterOps.LocalHost;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.OpenApi;

public class OpenApiDocumentTests
{
    /// <summary>
    /// The document itself (/openapi/v1.json), the interactive reference (/docs) and the web pages with their assets
    /// (Web/Pages.cs, HTML for people, not the API) are not described in it.
    /// </summary>
    private static readonly string[] Undocumented = ["openapi/v1.json", "docs", "docs/{asset}", .. Web.Pages.Routes];

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    private static IEnumerable<(string Route, string Method, JsonObject Operation)> Operations() =>
        OpenApiContract.Paths.SelectMany(path => path.Value!.AsObject()
            .Where(item => Methods.Contains(item.Key))
            .Select(item => (path.Key, item.Key, item.Value!.AsObject())));

    [Fact]
    public async Task Document_IsOpenApi31_AndReadsWithoutErrorsOrWarnings()
    {
        var (document, diagnostic) = await OpenApiContract.ReadAsync();

        diagnostic!.Errors.ShouldBeEmpty(string.Join("; ", diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        diagnostic.Warnings.ShouldBeEmpty(string.Join("; ", diagnostic.Warnings.Select(e => $"{e.Pointer}: {e.Message}")));
        diagnostic.SpecificationVersion.ShouldBe(OpenApiSpecVersion.OpenApi3_1);
        document!.Components!.SecuritySchemes!["bearer"].Scheme.ShouldBe("bearer");
    }

    [Fact]
    public void EveryFunctionRoute_IsDocumentedWithItsMethods_AndNothingElseIs()
    {
        var functions = LocalHostApp.Functions
            .Select(f => f.Trigger).OfType<LocalTrigger.Http>()
            .Where(h => !Undocumented.Contains(h.Route))
            .GroupBy(h => "/" + h.Route)
            .ToDictionary(g => g.Key, g => g.SelectMany(h => h.Methods).Select(m => m.ToLowerInvariant()).Order().ToList());
        var documented = Operations().GroupBy(o => o.Route).ToDictionary(g => g.Key, g => g.Select(o => o.Method).Order().ToList());

        documented.Keys.Except(functions.Keys).ShouldBeEmpty("documented, but no function has this route");
        functions.Keys.Except(documented.Keys).ShouldBeEmpty("a function's route the document does not describe");
        foreach (var (route, methods) in functions)
        {
            documented[route].ShouldBe(methods, route);
        }
    }

    [Fact]
    public void EveryOperation_StatesItsRoles_ItsStatuses_AndTheWriteHeaders()
    {
        foreach (var (route, method, operation) in Operations())
        {
            var name = $"{method.ToUpperInvariant()} {route}";
            var roles = operation["x-roles"].ShouldNotBeNull($"{name}: x-roles").AsArray().Select(r => (string)r!).ToList();
            var anonymous = operation["security"] is JsonArray { Count: 0 };
            (roles.Count == 0).ShouldBe(anonymous, $"{name}: no roles exactly when the operation is anonymous");
            var responses = operation["responses"]!.AsObject();
            var parameters = (operation["parameters"]?.AsArray() ?? []).Select(p => (string)p!["$ref"]! ?? "").ToList();
            if (!anonymous)
            {
                responses.ContainsKey("401").ShouldBeTrue($"{name}: 401");
                responses.ContainsKey("403").ShouldBe(!roles.Contains("*") || responses.ContainsKey("403"), $"{name}: 403");
                ((string)operation["description"]!).ShouldContain(roles.Contains("*") ? "any signed-in caller" : $"Roles: {roles[0]}", Case.Sensitive, name);
            }

            if (method is "post" or "put")
            {
                parameters.ShouldContain("#/components/parameters/IdempotencyKey", name);
                responses.ContainsKey("422").ShouldBeTrue($"{name}: 422");
                responses.ContainsKey("409").ShouldBeTrue($"{name}: 409");
                responses.ContainsKey("413").ShouldBeTrue($"{name}: 413");
            }

            if (operation["requestBody"] is not null)
            {
                responses.ContainsKey("400").ShouldBeTrue($"{name}: 400");
                responses.ContainsKey("415").ShouldBeTrue($"{name}: 415");
            }

            if (route != "/api/opel/frameworks")
            {
                responses.ContainsKey("503").ShouldBeTrue($"{name}: 503"); // every other operation reads storage
            }

            responses.Where(r => r.Key[0] is '4' or '5' && r.Key != "503" || r.Key == "503" && route != "/api/health")
                .ShouldAllBe(r => OpenApiContract.Resolve(r.Value!)["content"]!["application/problem+json"] != null, $"{name}: errors are problem+json");
            foreach (var (status, response) in responses.Where(r => r.Key[0] == '2'))
            {
                var headers = OpenApiContract.Resolve(response!)["headers"]?.AsObject();
                if (parameters.Contains("#/components/parameters/IfMatch"))
                {
                    (headers?.ContainsKey("ETag") ?? false).ShouldBeTrue($"{name} {status}: a write with If-Match answers with the ETag");
                }

                if (status is "201")
                {
                    (headers?.ContainsKey("Location") ?? false).ShouldBeTrue($"{name} {status}: Location");
                }
            }
        }
    }

    [Fact]
    public void EveryExampleValue_MatchesItsSchema()
    {
        var checkedCount = 0;
        foreach (var (route, method, operation) in Operations())
        {
            var media = (operation["requestBody"]?["content"]?.AsObject() ?? []).Select(m => ($"{method} {route} request", m.Value!))
                .Concat(operation["responses"]!.AsObject().SelectMany(r =>
                    (OpenApiContract.Resolve(r.Value!)["content"]?.AsObject() ?? []).Select(m => ($"{method} {route} {r.Key}", m.Value!))));
            foreach (var (where, content) in media)
            {
                var values = (content["examples"]?.AsObject() ?? []).Select(e => (e.Key, e.Value!["value"]))
                    .Append(("example", content["example"])).Where(v => v.Item2 is not null);
                foreach (var (name, value) in values)
                {
                    // A request example may be deliberately invalid (it shows a 400); only its shape as JSON is checked there.
                    if (where.EndsWith("request", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    using var instance = System.Text.Json.JsonDocument.Parse(value!.ToJsonString());
                    OpenApiContract.Validate(content["schema"]!, instance.RootElement).ShouldBeEmpty($"{where} example {name}");
                    checkedCount++;
                }
            }
        }

        checkedCount.ShouldBeGreaterThan(80);
    }

    [Fact]
    public async Task EveryOperation_AcceptsTheRolesItNames_AndRefusesEveryOtherCaller()
    {
        await using var app = await TestApp.StartAsync();
        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in Auth.Roles.All)
        {
            clients[role] = await app.ClientAsAsync(role, "QZZ", $"{role} (roles test)");
        }

        foreach (var (route, method, operation) in Operations())
        {
            var name = $"{method.ToUpperInvariant()} {route}";
            var roles = operation["x-roles"]!.AsArray().Select(r => (string)r!).ToList();
            var url = OpenApiExamples.Url(route, operation, OpenApiContract.Paths[route]!.AsObject(), exampleName: "", overrides: null);
            var anonymous = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url));
            if (roles.Count == 0)
            {
                anonymous.StatusCode.ShouldNotBe(HttpStatusCode.Unauthorized, name);
                continue;
            }

            anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, name);
            await OpenApiContract.ValidateAsync(new HttpMethod(method.ToUpperInvariant()), route, anonymous);
            foreach (var (role, client) in clients)
            {
                var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url));
                // The pipeline's own 403 (role refused) is a bare problem; a handler's (another organisation's resource) says why.
                var refusedForRole = response.StatusCode == HttpStatusCode.Forbidden && (await Http.ProblemAsync(response)).TryGetProperty("detail", out _) is false;
                refusedForRole.ShouldBe(!roles.Contains("*") && !roles.Contains(role), $"{name} as {role}: {response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task TheServedDocument_IsTheYamlAsJson_AndReadsWithoutErrors()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Client.GetAsync("/openapi/v1.json");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var text = await response.Content.ReadAsStringAsync();
        JsonNode.DeepEquals(JsonNode.Parse(text), OpenApiContract.Json).ShouldBeTrue();
        var (_, diagnostic) = OpenApiDocument.Parse(text, OpenApiConstants.Json, new OpenApiReaderSettings());
        diagnostic!.Errors.ShouldBeEmpty();
        diagnostic.SpecificationVersion.ShouldBe(OpenApiSpecVersion.OpenApi3_1);
    }
}
