using System.Text.Json.Nodes;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.OpenApi;

public class OpenApiExampleTests
{
    /// <summary>
    /// Runs every named response example of docs/openapi.yaml, in document order, on one app whose clock shows
    /// the examples' day: each gets the status it is documented under, and its body matches the schema.
    /// (WINTEROPS_OPENAPI_EXAMPLES=path writes what each call answered, for keeping the examples' values true.)
    /// </summary>
    [Fact]
    public async Task EveryExample_RunsAgainstTheLocalHost_AndGetsItsDocumentedStatus()
    {
        var examples = OpenApiExamples.Runnable().ToList();
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(time: clock);
        var clients = new Dictionary<(string, string?), HttpClient>();
        foreach (var caller in examples.Select(e => e.Caller).OfType<(string Role, string? Org)>().Distinct())
        {
            clients[caller] = await app.ClientAsAsync(caller.Role, caller.Org, OpenApiExamples.CallerName(caller.Role, caller.Org));
        }

        clock.UtcNow = OpenApiExamples.Clock; // after the tokens: they are checked against real time
        var failures = new List<string>();
        var answers = new JsonObject();
        foreach (var example in examples)
        {
            var client = example.Caller is { } caller ? clients[caller] : app.Client;
            using var request = example.Request();
            var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            answers[example.ToString()] = new JsonObject { ["status"] = (int)response.StatusCode, ["body"] = body.Length > 0 ? JsonNode.Parse(body) : null };
            if ((int)response.StatusCode != example.Status)
            {
                failures.Add($"{example}: got {(int)response.StatusCode} {body}");
                continue;
            }

            try
            {
                await OpenApiContract.ValidateAsync(example.Method, example.Route, response);
            }
            catch (ShouldAssertException e)
            {
                failures.Add($"{example}: {e.Message}");
            }
        }

        if (Environment.GetEnvironmentVariable("WINTEROPS_OPENAPI_EXAMPLES") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, answers.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }

        examples.Count.ShouldBeGreaterThan(50);
        failures.ShouldBeEmpty(string.Join(Environment.NewLine, failures));
    }
}
