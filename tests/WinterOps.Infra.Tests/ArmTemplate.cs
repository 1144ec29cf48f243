using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WinterOps.Infra.Tests;

/// <summary>A compiled ARM template, with the resources of its nested module deployments flattened out.</summary>
public sealed partial class ArmTemplate(string json)
{
    public string Json { get; } = json;

    public JsonObject Root { get; } = JsonNode.Parse(json)!.AsObject();

    /// <summary>Every resource (and the template that declares it, for its variables), modules included.</summary>
    public IReadOnlyList<(JsonObject Resource, JsonObject Template)> Resources => [.. Walk(Root)];

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => (string?)r.Resource["type"] == type && r.Resource["existing"] is null).Select(r => r.Resource);

    public JsonObject One(string type) => OfType(type).ShouldHaveSingleItem($"one {type}");

    /// <summary>The parameter values main.bicep passes to the module that declares <paramref name="type"/>.</summary>
    public JsonObject ModuleParameters(string type) =>
        OfType("Microsoft.Resources/deployments")
            .Single(d => new ArmTemplate(d["properties"]!["template"]!.ToJsonString()).OfType(type).Any())["properties"]!["parameters"]!.AsObject();

    /// <summary>Role definition ids a role assignment grants: GUIDs in its expression or in the variables it reads.</summary>
    public static IReadOnlySet<string> RoleIds(JsonObject assignment, JsonObject template)
    {
        var expression = (string)assignment["properties"]!["roleDefinitionId"]!;
        var text = expression + string.Concat(VariableReference().Matches(expression)
            .Select(m => template["variables"]![m.Groups[1].Value]!.ToJsonString()));
        return Guid().Matches(text).Select(m => m.Value).ToHashSet();
    }

    private static IEnumerable<(JsonObject, JsonObject)> Walk(JsonObject template)
    {
        var resources = template["resources"] switch
        {
            JsonObject symbolic => symbolic.Select(kv => kv.Value!.AsObject()),
            JsonArray list => list.Select(r => r!.AsObject()),
            _ => [],
        };
        foreach (var resource in resources)
        {
            yield return (resource, template);
            if ((string?)resource["type"] == "Microsoft.Resources/deployments")
            {
                foreach (var nested in Walk(resource["properties"]!["template"]!.AsObject()))
                {
                    yield return nested;
                }
            }
        }
    }

    [GeneratedRegex(@"variables\('(\w+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Guid();
}
