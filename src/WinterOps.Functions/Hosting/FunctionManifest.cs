using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing.Patterns;

namespace WinterOps.Functions.Hosting;

/// <summary>
/// The Azure Functions layout the code implies: one function.json per HTTP endpoint (proxied to this
/// program at its own path) and per trigger function. <c>write-functions</c> writes it; a test fails
/// when the committed files differ, so a route, method, queue or schedule can never drift.
/// </summary>
public static class FunctionManifest
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Function name -> function.json, computed from the app's endpoints and <see cref="TriggerFunctions"/>.</summary>
    public static SortedDictionary<string, JsonObject> Compute(IEnumerable<EndpointDataSource> sources)
    {
        var functions = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<NotAnHttpFunction>() is not null)
            {
                continue;
            }

            var route = Route(endpoint.RoutePattern);
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName
                ?? (route.StartsWith("api/", StringComparison.Ordinal)
                    ? throw new InvalidOperationException($"API endpoint '{endpoint.DisplayName}' has no name; give it one with WithName: it names its function.")
                    : NameFromRoute(route));
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            Add(functions, name, Http(route, methods));
        }

        foreach (var trigger in TriggerFunctions.All)
        {
            Add(functions, trigger.Name, trigger.Binding switch
            {
                TriggerBinding.QueueMessages q => Bindings(new JsonObject
                {
                    ["name"] = q.BindingName, ["type"] = "queueTrigger", ["direction"] = "in", ["queueName"] = q.QueueName, ["connection"] = "Storage",
                }),
                TriggerBinding.Timer t => Bindings(new JsonObject
                {
                    ["name"] = t.BindingName, ["type"] = "timerTrigger", ["direction"] = "in", ["schedule"] = t.Schedule,
                }),
                _ => throw new InvalidOperationException($"Unknown binding {trigger.Binding}."),
            });
        }

        return functions;
    }

    /// <summary>Writes the layout into <paramref name="directory"/> (one folder per function), removing stale folders.</summary>
    public static void Write(IEnumerable<EndpointDataSource> sources, string directory)
    {
        var functions = Compute(sources);
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetDirectories(directory).Where(d => !functions.ContainsKey(Path.GetFileName(d))))
        {
            Directory.Delete(stale, recursive: true);
        }

        foreach (var (name, json) in functions)
        {
            Directory.CreateDirectory(Path.Combine(directory, name));
            File.WriteAllText(Path.Combine(directory, name, "function.json"), json.ToJsonString(Indented) + "\n");
        }
    }

    /// <summary>Reads the function folders under <paramref name="directory"/>.</summary>
    public static SortedDictionary<string, JsonObject> Read(string directory)
    {
        var functions = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(directory, "function.json", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(Path.GetDirectoryName(file))!;
            functions[name] = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        }

        return functions;
    }

    private static void Add(SortedDictionary<string, JsonObject> functions, string name, JsonObject json)
    {
        if (!functions.TryAdd(name, json))
        {
            throw new InvalidOperationException($"Two functions are named '{name}'.");
        }
    }

    /// <summary>The route as the Functions host writes it: host.json sets routePrefix "", so it is the app's own path.</summary>
    private static string Route(RoutePattern pattern) => (pattern.RawText ?? "").TrimStart('/');

    /// <summary>Names the framework's own endpoints (docs assets): "docs/{documentName?}" -> "DocsDocumentName".</summary>
    private static string NameFromRoute(string route) =>
        string.Concat(route.Split(['/', '{', '}', '?', '.', '-', '*', ':'], StringSplitOptions.RemoveEmptyEntries)
            .Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    private static JsonObject Http(string route, IEnumerable<string> methods) => Bindings(
        new JsonObject
        {
            ["name"] = "req",
            ["type"] = "httpTrigger",
            ["direction"] = "in",
            ["authLevel"] = "anonymous",
            ["methods"] = new JsonArray([.. methods.Select(m => JsonValue.Create(m.ToLowerInvariant()))]),
            ["route"] = route,
        },
        new JsonObject { ["name"] = "res", ["type"] = "http", ["direction"] = "out" });

    private static JsonObject Bindings(params JsonObject[] bindings) => new() { ["bindings"] = new JsonArray(bindings) };
}
