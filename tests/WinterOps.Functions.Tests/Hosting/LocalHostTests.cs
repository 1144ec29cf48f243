using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Functions.Operations;
using WinterOps.LocalHost;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Hosting;

public class LocalHostTests
{
    /// <summary>What the Functions host reads: the build's functions.metadata, generated from the [Function] attributes.</summary>
    private static JsonArray Metadata()
    {
        return JsonNode.Parse(File.ReadAllText(TestApp.BuildOutput("WinterOps.Functions", "functions.metadata")))!.AsArray();
    }

    [Fact]
    public async Task LocalHost_ServesExactlyTheFunctionsInFunctionsMetadata_WithTheirRoutesMethodsSchedulesAndAuthLevels()
    {
        var metadata = Metadata();
        await using var app = await TestApp.StartAsync();
        var served = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .ToDictionary(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName);

        LocalHostApp.Functions.Select(f => f.Name).ShouldBe(metadata.Select(f => (string)f!["name"]!).Order(StringComparer.Ordinal));
        foreach (var function in metadata)
        {
            var name = (string)function!["name"]!;
            var trigger = function["bindings"]!.AsArray().Single(b => ((string)b!["type"]!).EndsWith("Trigger", StringComparison.Ordinal))!;
            var local = LocalHostApp.Functions.Single(f => f.Name == name).Trigger;
            switch ((string)trigger["type"]!)
            {
                case "httpTrigger":
                    var http = local.ShouldBeOfType<LocalTrigger.Http>();
                    http.Route.ShouldBe((string)trigger["route"]!, name);
                    http.Methods.ShouldBe(trigger["methods"]!.AsArray().Select(m => (string)m!), name);
                    ((string)trigger["authLevel"]!).ShouldBe("Anonymous", $"{name}: WinterOps authorises with bearer tokens");
                    http.AuthLevel.ToString().ShouldBe((string)trigger["authLevel"]!);
                    served[name].RoutePattern.RawText.ShouldBe("/" + (string)trigger["route"]!);
                    served[name].Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.ShouldBe(http.Methods.Select(m => m.ToUpperInvariant()));
                    break;
                case "timerTrigger":
                    local.ShouldBeOfType<LocalTrigger.Timer>().Schedule.ShouldBe((string)trigger["schedule"]!, name);
                    break;
                case "orchestrationTrigger":
                    local.ShouldBeOfType<LocalTrigger.Orchestration>();
                    break;
                case "activityTrigger":
                    local.ShouldBeOfType<LocalTrigger.Activity>();
                    break;
                default:
                    throw new ShouldAssertException($"{name}: the local host does not run {trigger["type"]} functions");
            }
        }

        served.Keys.ShouldBe(metadata.Where(f => f!["bindings"]!.AsArray().Any(b => (string)b!["type"]! == "httpTrigger")).Select(f => (string)f!["name"]!), ignoreOrder: true);
        metadata.Select(f => (string)f!["name"]!).ShouldContain("DailyTick");
        metadata.Select(f => (string)f!["name"]!).ShouldContain(DurableCheck.Orchestration);
    }

    [Fact]
    public void HostJson_HasTheEmptyRoutePrefixAndTheDurableAzureStorageProvider()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!;

        host["customHandler"].ShouldBeNull();
        ((string)host["extensions"]!["http"]!["routePrefix"]!).ShouldBe("");
        var durable = host["extensions"]!["durableTask"]!;
        ((string)durable["hubName"]!).ShouldBe("%DurableTaskHubName%");
        ((string)durable["storageProvider"]!["type"]!).ShouldBe("AzureStorage");
        ((string)durable["storageProvider"]!["connectionName"]!).ShouldBe("AzureWebJobsStorage");
    }

    [Fact]
    public async Task Docs_AndTheOpenApiDocument_AreServed()
    {
        await using var app = await TestApp.StartAsync();

        var openApi = await app.Client.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        openApi!["paths"]!.AsObject().ContainsKey("/api/partners/{odsCode}").ShouldBeTrue();
        var page = await app.Client.GetAsync("/docs");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync()).ShouldContain("/openapi/v1.json");
        var script = await app.Client.GetAsync("/docs/scalar.js");
        script.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await script.Content.ReadAsByteArrayAsync()).Length.ShouldBeGreaterThan(1000);
        (await app.Client.GetAsync("/docs/secret.txt")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    /// <summary>The local host's own answer (in Azure the Functions host answers unknown routes itself).</summary>
    [Fact]
    public async Task UnknownRoute_OnTheLocalHost_Is404ProblemJson()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Client.GetAsync("/api/no-such-thing");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await Http.ProblemAsync(response);
    }

    [Fact]
    public async Task NoToken_Is401WithTheBearerChallenge_WhateverTheAcceptHeader_AndBeforeTheBodyIsRead()
    {
        await using var app = await TestApp.StartAsync();

        using var plain = new HttpRequestMessage(HttpMethod.Get, "/api/partners");
        plain.Headers.Accept.ParseAdd("text/plain");
        var refused = await app.Client.SendAsync(plain);
        var large = await app.Client.PutAsync("/api/partners/RZ1", Http.Json("\"" + new string('x', 600 * 1024) + "\""));

        refused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized); // not a 500 because no problem+json writer accepts text/plain
        refused.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
        (await refused.Content.ReadAsStringAsync()).ShouldContain("401");
        large.StatusCode.ShouldBe(HttpStatusCode.Unauthorized); // 401 before 413: nothing is read for a caller without a token
        await Http.ProblemAsync(large);
    }

    [Fact]
    public async Task DevelopmentIssuer_IsOffUnlessSwitchedOn_EvenInDevelopment()
    {
        await using var app = await TestApp.StartAsync(configure: b =>
        {
            b.Configuration["Auth:DevelopmentIssuer"] = "false";
            b.Configuration["Auth:Authority"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";
            b.Configuration["Auth:Audience"] = "api://winterops-test";
        });

        var response = await app.Client.PostAsJsonAsync("/api/dev/token", new { role = "Coordinator", org = "QZZ", name = "Sam" });

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await Http.ProblemAsync(response);
    }

    [Fact]
    public async Task DevelopmentRoutes_Are404OutsideDevelopment()
    {
        await using var app = await TestApp.StartAsync(environment: "Production", configure: b => b.Configuration["Auth:DevelopmentIssuer"] = "true");

        (await app.Client.PostAsJsonAsync("/api/dev/token", new { role = "Coordinator", org = "QZZ", name = "Sam" })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.Client.PostAsync("/api/dev/simulate-morning", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public void DurablePayloads_RoundTripWithTheSharedSerializerOptions()
    {
        object[] payloads =
        [
            new DurableCheckInput(5, 300),
            new DurableCheckConfirmation("Sam Carter"),
            new DurableCheckResult("confirmed", 1, new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero), "Sam Carter"),
        ];

        foreach (var payload in payloads)
        {
            var json = JsonSerializer.Serialize(payload, payload.GetType(), WinterOpsServices.DurableJson);
            JsonSerializer.Deserialize(json, payload.GetType(), WinterOpsServices.DurableJson).ShouldBe(payload, json);
            json.ShouldNotContain("\"Outcome\"", Case.Sensitive, "camelCase, as in the Azure host");
        }
    }
}
