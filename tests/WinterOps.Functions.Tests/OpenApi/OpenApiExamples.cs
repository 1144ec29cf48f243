using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace WinterOps.Functions.Tests.OpenApi;

/// <summary>One named response example of the document: a call the tests make, and the status it documents.</summary>
public sealed record OpenApiExample(string Route, HttpMethod Method, int Status, string Name, JsonObject Example, JsonObject Operation, JsonObject PathItem)
{
    public (string Role, string? Org)? Caller =>
        Example["x-caller"] is JsonObject caller ? ((string)caller["role"]!, (string?)caller["org"]) : null;

    public override string ToString() => $"{Method} {Route} -> {Status} ({Name})";

    public HttpRequestMessage Request()
    {
        var overrides = Example["x-parameters"]?.AsObject();
        var request = new HttpRequestMessage(Method, OpenApiExamples.Url(Route, Operation, PathItem, Name, overrides));
        foreach (var (name, value) in Example["x-request-headers"]?.AsObject() ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, (string)value!);
        }

        var body = Operation["requestBody"]?["content"]?["application/json"]?["examples"]?[Name]?["value"];
        if (body is not null)
        {
            var contentType = (string?)Example["x-request-content-type"] ?? "application/json";
            request.Content = new StringContent(
                contentType == "application/json" ? body.ToJsonString() : (string)body!, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        }

        return request;
    }
}

public static class OpenApiExamples
{
    /// <summary>The London day and time the examples are written for.</summary>
    public static readonly DateTimeOffset Clock = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The name a caller's token carries (its subject, and so ids derived from it, follow from it).</summary>
    public static string CallerName(string role, string? org) => $"{role} {org} (example)";

    /// <summary>Every named response example in document order, except those marked <c>x-not-run</c> (with why).</summary>
    public static IEnumerable<OpenApiExample> Runnable() =>
        from path in OpenApiContract.Paths
        from item in path.Value!.AsObject()
        where item.Key is "get" or "put" or "post" or "delete" or "patch"
        from response in item.Value!["responses"]!.AsObject()
        where response.Value!["$ref"] is null
        from media in response.Value!["content"]?.AsObject() ?? []
        from example in media.Value!["examples"]?.AsObject() ?? []
        where example.Value!["x-not-run"] is null
        select new OpenApiExample(
            path.Key, new HttpMethod(item.Key.ToUpperInvariant()), int.Parse(response.Key, CultureInfo.InvariantCulture), example.Key,
            example.Value!.AsObject(), item.Value!.AsObject(), path.Value!.AsObject());

    /// <summary>
    /// The URL of a call: each path parameter from <paramref name="overrides"/>, else the parameter's example of
    /// that name, else its <c>example</c>; each query parameter only from the first two.
    /// </summary>
    public static string Url(string route, JsonObject operation, JsonObject pathItem, string exampleName, JsonObject? overrides)
    {
        var parameters = (pathItem["parameters"]?.AsArray() ?? []).Concat(operation["parameters"]?.AsArray() ?? [])
            .Select(p => OpenApiContract.Resolve(p!)).ToList();
        var url = route;
        var query = new List<string>();
        foreach (var parameter in parameters)
        {
            var name = (string)parameter["name"]!;
            var named = overrides?[name] ?? parameter["examples"]?[exampleName]?["value"];
            switch ((string)parameter["in"]!)
            {
                case "path":
                    var value = named ?? parameter["example"] ?? throw new InvalidOperationException($"{route}: no example for {name}");
                    url = url.Replace("{" + name + "}", Uri.EscapeDataString(Text(value)), StringComparison.Ordinal);
                    break;
                case "query" when named is not null:
                    query.Add($"{name}={Uri.EscapeDataString(Text(named))}");
                    break;
            }
        }

        return query.Count == 0 ? url : $"{url}?{string.Join('&', query)}";
    }

    private static string Text(JsonNode value) => value.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)value! : value.ToJsonString();
}
