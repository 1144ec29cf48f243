using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using WinterOps.Azure.Outbox;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Hosting;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class CustomHandlerTests
{
    [Fact]
    public void CommittedFunctionJsonFiles_MatchTheCode()
    {
        var app = WinterOpsApp.Build(["--environment", "Production"], b =>
        {
            b.Configuration["Auth:Authority"] = "https://login.microsoftonline.com/manifest";
            b.Configuration["Auth:Audience"] = "api://manifest";
            b.Configuration["Storage"] = "UseDevelopmentStorage=true";
            b.Configuration["LocalTriggers:Enabled"] = "false";
        });
        var expected = FunctionManifest.Compute(((IEndpointRouteBuilder)app).DataSources);
        var committed = FunctionManifest.Read(Path.Combine(AzuriteServer.RepoRoot(), "src", "WinterOps.Functions", "functions"));

        committed.Keys.ShouldBe(expected.Keys, "Run: dotnet run --project src/WinterOps.Functions -- write-functions $PWD/src/WinterOps.Functions/functions");
        foreach (var (name, json) in expected)
        {
            JsonNode.DeepEquals(committed[name], json).ShouldBeTrue($"{name}/function.json differs from the code: {committed[name].ToJsonString()}");
        }

        expected.ShouldContainKey("PutPartner");
        expected.ShouldNotContainKey("DevToken"); // Development only: never deployed
        expected["WorkflowTimers"]["bindings"]![0]!["queueName"]!.GetValue<string>().ShouldBe("workflow-timers");
    }

    [Fact]
    public void HostJson_ProxiesHttpToTheProgramAtItsOwnPaths()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!;

        host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>().ShouldBe("WinterOps.Functions");
        host["customHandler"]!["enableProxyingHttpRequest"]!.GetValue<bool>().ShouldBeTrue();
        host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>().ShouldBe("");
        File.Exists(Path.Combine(AppContext.BaseDirectory, "OutboxDispatch", "function.json")).ShouldBeTrue();
    }

    [Fact]
    public async Task QueueInvocation_WithAJsonEncodedString_RunsAndAnswersInTheHostShape()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());
        var message = JsonSerializer.Serialize(new DispatchRequest("partner-RZ1"), WorkflowJson.Options);
        var invocation = new JsonObject
        {
            ["Data"] = new JsonObject { ["message"] = JsonValue.Create(message) }, // the host sends queue text as a JSON string
            ["Metadata"] = new JsonObject { ["DequeueCount"] = 1, ["Id"] = "abc", ["sys"] = new JsonObject { ["MethodName"] = "OutboxDispatch" } },
        };

        var response = await app.Client.PostAsJsonAsync("/OutboxDispatch", invocation);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        body!["Outputs"].ShouldBeOfType<JsonObject>();
        body["Logs"]!.AsArray().Count.ShouldBe(1);
        body.ContainsKey("ReturnValue").ShouldBeTrue();
        var inbox = await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"));
        inbox.GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task WithoutTheFunctionsHost_TheTriggerRoutesDoNotExist_SoNoCallerCanRunWorkflowCommands()
    {
        await using var app = await TestApp.StartAsync(configure: b => b.Configuration["LocalTriggers:Routes"] = "false");
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());
        var message = JsonSerializer.Serialize(new DispatchRequest("partner-RZ1"), WorkflowJson.Options);
        var invocation = new JsonObject { ["Data"] = new JsonObject { ["message"] = JsonValue.Create(message) }, ["Metadata"] = new JsonObject() };

        var dispatch = await app.Client.PostAsJsonAsync("/OutboxDispatch", invocation);
        var commands = await app.Client.PostAsJsonAsync("/WorkflowCommands", invocation);

        dispatch.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        commands.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"))).GetArrayLength().ShouldBe(0); // nothing was dispatched
    }

    [Fact]
    public async Task TimerInvocation_RunsTheSweeper()
    {
        await using var app = await TestApp.StartAsync();
        var invocation = new JsonObject
        {
            ["Data"] = new JsonObject { ["timer"] = new JsonObject { ["Schedule"] = new JsonObject(), ["IsPastDue"] = false } },
            ["Metadata"] = new JsonObject(),
        };

        var response = await app.Client.PostAsJsonAsync("/OutboxSweeper", invocation);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JsonObject>())!["Logs"]![0]!.GetValue<string>().ShouldContain("OutboxSweeper completed");
    }

    [Fact]
    public async Task QueueInvocation_WithInputItCanNeverProcess_Is400InTheHostShape()
    {
        await using var app = await TestApp.StartAsync();
        var invocation = new JsonObject { ["Data"] = new JsonObject { ["message"] = "not json" }, ["Metadata"] = new JsonObject() };

        var response = await app.Client.PostAsJsonAsync("/WorkflowCommands", invocation);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonObject>())!["Logs"]![0]!.GetValue<string>().ShouldContain("not valid");
    }

    [Fact]
    public async Task LocalTriggerRunner_DeliversTheOutboxThroughTheQueues()
    {
        await using var app = await TestApp.StartAsync(localTriggers: true);
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        var inbox = await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"));
        for (var i = 0; i < 300 && inbox.GetArrayLength() == 0; i++)
        {
            await Task.Delay(100);
            inbox = await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"));
        }

        inbox.EnumerateArray().Select(i => i.GetProperty("id").GetString()).ShouldBe(["partner-RZ1.0000000001.0"]);
        // The dispatcher clears the pending marker just after it delivers; wait for it rather than race it.
        var head = await app.Get<IEventStore>().ReadHeadAsync("partner-RZ1", default);
        for (var i = 0; i < 300 && head!.PendingSince is not null; i++)
        {
            await Task.Delay(100);
            head = await app.Get<IEventStore>().ReadHeadAsync("partner-RZ1", default);
        }

        head!.PendingSince.ShouldBeNull();
    }

    [Fact]
    public async Task HostProbe_AndDocs_Answer()
    {
        await using var app = await TestApp.StartAsync();

        (await app.Client.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var openApi = await app.Client.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        openApi!["paths"]!.AsObject().ContainsKey("/api/partners/{odsCode}").ShouldBeTrue();
        (await app.Client.GetAsync("/docs/")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
