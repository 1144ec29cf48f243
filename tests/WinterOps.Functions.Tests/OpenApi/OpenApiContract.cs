using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Microsoft.OpenApi.YamlReader;
using SharpYaml.Serialization;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.OpenApi;

/// <summary>
/// docs/openapi.yaml, read two ways: by OpenAPI.NET (the document model, with its diagnostics) and as the
/// plain JSON tree its YAML converter makes (what /openapi/v1.json serves; it keeps the document's order).
/// Response bodies are validated against the documented schemas with JsonSchema.Net: OpenAPI 3.1 schemas
/// are JSON Schema 2020-12.
/// </summary>
public static class OpenApiContract
{
    public static string YamlPath { get; } = Path.Combine(AzuriteServer.RepoRoot(), "docs", "openapi.yaml");

    /// <summary>Response headers the API sets; each one a response carries must be documented for it.</summary>
    public static IReadOnlyList<string> ContractHeaders { get; } = ["ETag", "Location", "Retry-After", "Link", "Idempotent-Replayed"];

    private static readonly Uri DocumentUri = new("https://winterops.test/openapi.json");

    private static readonly Lazy<JsonObject> JsonDocument = new(() =>
    {
        using var reader = new StreamReader(YamlPath);
        var yaml = new YamlStream();
        yaml.Load(reader);
        return WithNulls(yaml.Documents[0].ToJsonNode())!.AsObject();
    });

    private static readonly Lazy<BuildOptions> SchemaOptions = new(() =>
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        using var parsed = System.Text.Json.JsonDocument.Parse(Json.ToJsonString());
        options.SchemaRegistry.Register(DocumentUri, new JsonElementBaseDocument(parsed.RootElement.Clone(), DocumentUri));
        return options;
    });

    private static int _schemaCount;

    /// <summary>The converter marks YAML nulls with a sentinel string (for OpenAPI.NET's model); as JSON they are null.</summary>
    private static JsonNode? WithNulls(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, WithNulls(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(WithNulls)]),
        _ when node is not null && JsonNullSentinel.IsJsonNullSentinel(node) => null,
        _ => node?.DeepClone(),
    };

    /// <summary>The document as JSON (a shared tree: read it, never change it).</summary>
    public static JsonObject Json => JsonDocument.Value;

    public static JsonObject Paths => Json["paths"]!.AsObject();

    public static async Task<ReadResult> ReadAsync()
    {
        var settings = new OpenApiReaderSettings();
        settings.AddYamlReader();
        return await OpenApiDocument.LoadAsync(YamlPath, settings);
    }

    /// <summary>Follows a <c>$ref</c> inside the document (e.g. to components/responses), or returns the node itself.</summary>
    public static JsonObject Resolve(JsonNode node)
    {
        var obj = node.AsObject();
        while (obj["$ref"] is JsonValue reference && ((string)reference!).StartsWith("#/", StringComparison.Ordinal))
        {
            JsonNode current = Json;
            foreach (var segment in ((string)reference!)[2..].Split('/'))
            {
                current = current[segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]
                    ?? throw new InvalidOperationException($"{reference} does not resolve");
            }

            obj = current.AsObject();
        }

        return obj;
    }

    public static JsonObject Operation(HttpMethod method, string route) =>
        (Paths[route] ?? throw new ShouldAssertException($"{route} is not documented"))[method.Method.ToLowerInvariant()]?.AsObject()
        ?? throw new ShouldAssertException($"{method} {route} is not documented");

    /// <summary>Validates <paramref name="instance"/> against <paramref name="schema"/> (a schema node of the document); the errors, empty when valid.</summary>
    public static IReadOnlyList<string> Validate(JsonNode schema, JsonElement instance)
    {
        // Refs inside the document are made absolute, so the schema can be built on its own base URI.
        var text = schema.ToJsonString().Replace("\"$ref\":\"#/", $"\"$ref\":\"{DocumentUri}#/", StringComparison.Ordinal);
        var id = new Uri($"https://winterops.test/schema/{Interlocked.Increment(ref _schemaCount)}");
        var built = JsonSchema.FromText(text, SchemaOptions.Value, id);
        var results = built.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        return results.IsValid
            ? []
            : (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({d.EvaluationPath})")).ToList();
    }

    /// <summary>
    /// Checks a response against the document: its status is documented for the operation, its content type is
    /// one documented for that status, its body validates against the schema, and every contract header it carries
    /// is documented. Returns the body (null when empty).
    /// </summary>
    public static async Task<JsonElement?> ValidateAsync(HttpMethod method, string route, HttpResponseMessage response)
    {
        var where = $"{method} {route} -> {(int)response.StatusCode}";
        var responses = Operation(method, route)["responses"]!.AsObject();
        var documented = Resolve(responses[((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)]
            ?? throw new ShouldAssertException($"{where}: this status is not documented"));

        var headers = documented["headers"]?.AsObject();
        foreach (var header in ContractHeaders.Where(h => response.Headers.NonValidated.Contains(h) || response.Content.Headers.NonValidated.Contains(h)))
        {
            (headers?.ContainsKey(header) ?? false).ShouldBeTrue($"{where}: the response has a {header} header the document does not mention");
        }

        var body = await response.Content.ReadAsStringAsync();
        if (body.Length == 0)
        {
            documented["content"].ShouldBeNull($"{where}: the document describes a body; the response has none");
            return null;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        var content = documented["content"]?.AsObject() ?? throw new ShouldAssertException($"{where}: a body ({mediaType}) the document does not describe");
        var media = content[mediaType] ?? throw new ShouldAssertException($"{where}: the content type {mediaType} is not documented (documented: {string.Join(", ", content.Select(c => c.Key))})");
        using var parsed = System.Text.Json.JsonDocument.Parse(body);
        var errors = Validate(media["schema"]!, parsed.RootElement);
        errors.ShouldBeEmpty($"{where}: the body does not match the documented schema: {body}");
        return parsed.RootElement.Clone();
    }

    /// <summary>Sends a request and validates the response (see <see cref="ValidateAsync"/>); the route is the template as documented.</summary>
    public static async Task<(HttpResponseMessage Response, JsonElement? Body)> SendAsync(
        this HttpClient client, HttpMethod method, string route, string url, object? body = null, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = body as HttpContent ?? System.Net.Http.Json.JsonContent.Create(body);
        }

        headers?.Invoke(request.Headers);
        var response = await client.SendAsync(request);
        return (response, await ValidateAsync(method, route, response));
    }
}
