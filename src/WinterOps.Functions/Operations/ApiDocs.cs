using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;
using Microsoft.OpenApi.YamlReader;
using SharpYaml.Serialization;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Operations;

/// <summary>The API's OpenAPI document (docs/openapi.yaml, built into the app, served as JSON) and the interactive reference at /docs.</summary>
public static class ApiDocs
{
    private const string DocumentResource = "WinterOps.Functions.openapi.yaml";

    /// <summary>The document as JSON: converted once, node for node, by OpenAPI.NET's YAML converter (the tests check it reads without errors).</summary>
    private static readonly Lazy<byte[]> Json = new(() =>
    {
        using var reader = new StreamReader(typeof(ApiDocs).Assembly.GetManifestResourceStream(DocumentResource)!);
        var yaml = new YamlStream();
        yaml.Load(reader);
        return JsonSerializer.SerializeToUtf8Bytes(WithNulls(yaml.Documents[0].ToJsonNode()));
    });

    /// <summary>The converter marks YAML nulls with a sentinel string (OpenAPI.NET's own model tells null from absent); JSON says null.</summary>
    private static JsonNode? WithNulls(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, WithNulls(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(WithNulls)]),
        _ when node is not null && JsonNullSentinel.IsJsonNullSentinel(node) => null,
        _ => node?.DeepClone(),
    };

    /// <summary>The interactive reference's assets, as the Scalar.AspNetCore package embeds them.</summary>
    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["scalar.js"] = "text/javascript",
        ["scalar.aspnetcore.js"] = "text/javascript",
        ["favicon.svg"] = "image/svg+xml",
    };

    private const string Page = """
        <!doctype html>
        <html lang="en">
        <head>
          <title>WinterOps API</title>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
        </head>
        <body>
          <div id="app"></div>
          <script src="/docs/scalar.js"></script>
          <script type="module">
            import { initialize } from '/docs/scalar.aspnetcore.js'
            initialize('%2Fdocs%2F', false, {"favicon":"/docs/favicon.svg","_integration":"dotnet","sources":[{"title":"v1","url":"/openapi/v1.json"}]}, '')
          </script>
        </body>
        </html>
        """;

    [Function("OpenApiDocument")]
    public static Task OpenApiDocument([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi/v1.json")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static () => Results.Bytes(Json.Value, "application/json"));

    [Function("ApiReference")]
    public static Task ApiReference([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "docs")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static () => Results.Content(Page, "text/html; charset=utf-8"));

    [Function("ApiReferenceAsset")]
    public static Task ApiReferenceAsset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "docs/{asset}")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, static (string asset) =>
            Assets.TryGetValue(asset, out var contentType)
            && typeof(Scalar.AspNetCore.ScalarOptions).Assembly.GetManifestResourceStream($"ScalarStaticAssets.{asset}") is { } stream
                ? Results.Stream(stream, contentType)
                : TypedResults.Problem(statusCode: 404, title: "Not found.", detail: $"There is no asset '{asset}'."));
}
