using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Hosting;

/// <summary>Durable Functions end to end through the local host, on a real Azurite: the DurableCheck orchestration.</summary>
public class DurableCheckTests
{
    [Fact]
    public async Task DurableCheck_RunsItsActivity_ItsTimer_AndCompletesOnTheConfirmEvent()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Sam Carter");

        var started = await coordinator.PostAsJsonAsync("/api/operations/durable-checks", new { timerSeconds = 1, confirmWithinSeconds = 120 });
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var location = started.Headers.Location!.ToString();
        await WaitForAsync(coordinator, location, s => s.GetProperty("step").GetString() == "awaiting confirmation");
        (await coordinator.PostAsync(location + "/confirm", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var done = await WaitForAsync(coordinator, location, s => s.GetProperty("runtimeStatus").GetString() == "Completed");

        var result = done.GetProperty("result");
        result.GetProperty("outcome").GetString().ShouldBe("confirmed");
        result.GetProperty("confirmedBy").GetString().ShouldBe("Sam Carter");
        result.GetProperty("activityRuns").GetInt32().ShouldBe(1);
        var again = await coordinator.PostAsync(location + "/confirm", null);
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict); // a finished instance takes no more events
        await Http.ProblemAsync(again);
    }

    [Fact]
    public async Task DurableCheck_WithoutConfirmation_EndsUnconfirmedAtItsDeadline()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var started = await coordinator.PostAsJsonAsync("/api/operations/durable-checks", new { timerSeconds = 1, confirmWithinSeconds = 1 });
        var done = await WaitForAsync(coordinator, started.Headers.Location!.ToString(), s => s.GetProperty("runtimeStatus").GetString() == "Completed");

        done.GetProperty("result").GetProperty("outcome").GetString().ShouldBe("unconfirmed");
        done.GetProperty("result").GetProperty("confirmedBy").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory]
    [InlineData("""{"timerSeconds":0}""")]
    [InlineData("""{"confirmWithinSeconds":3601}""")]
    [InlineData("""{"timerSeconds":"soon"}""")]
    public async Task DurableCheck_WithBadInput_Is400AndStartsNothing(string body)
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var response = await coordinator.PostAsync("/api/operations/durable-checks", Http.Json(body));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await Http.ProblemAsync(response);
    }

    [Fact]
    public async Task DurableCheck_IsForCoordinators_AndUnknownChecksAre404()
    {
        await using var app = await TestApp.StartAsync();
        var partner = await app.ClientAsAsync("Partner", "RZ1");
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        (await partner.PostAsJsonAsync("/api/operations/durable-checks", new { })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await app.Client.PostAsJsonAsync("/api/operations/durable-checks", new { })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await coordinator.GetAsync("/api/operations/durable-checks/check-nothere")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await coordinator.PostAsync("/api/operations/durable-checks/check-nothere/confirm", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    /// <summary>
    /// The local host as its own process, killed with SIGKILL while the check waits on its durable timer, then
    /// started again on the same task hub: the instance completes and its finished activity did not run again.
    /// </summary>
    [Fact]
    public async Task DurableCheck_WaitingOnItsTimer_SurvivesAHardKillOfTheHost_WithoutRerunningItsActivity()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "k" + Guid.NewGuid().ToString("N")[..12];
        var port = AzuriteServer.FreePort();
        string location;
        using (var first = HostProcess.Start(azurite, prefix, port))
        {
            try
            {
                var coordinator = await HostProcess.SignInAsync(port);
                var started = await coordinator.PostAsJsonAsync("/api/operations/durable-checks", new { timerSeconds = 8, confirmWithinSeconds = 120 });
                started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
                location = started.Headers.Location!.ToString();
                await WaitForAsync(coordinator, location, s => s.GetProperty("step").GetString() == "timer");
            }
            finally
            {
                first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, the partition leases stay owned
                await first.WaitForExitAsync();
            }
        }

        using var second = HostProcess.Start(azurite, prefix, port);
        try
        {
            var coordinator = await HostProcess.SignInAsync(port); // the development issuer's key is new with each start
            await WaitForAsync(coordinator, location, s => s.GetProperty("step").GetString() == "awaiting confirmation", TimeSpan.FromSeconds(90));
            (await coordinator.PostAsync(location + "/confirm", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            var done = await WaitForAsync(coordinator, location, s => s.GetProperty("runtimeStatus").GetString() == "Completed");

            done.GetProperty("result").GetProperty("outcome").GetString().ShouldBe("confirmed");
            done.GetProperty("result").GetProperty("activityRuns").GetInt32().ShouldBe(1);
        }
        finally
        {
            second.Kill(entireProcessTree: true);
        }
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string location, Func<JsonElement, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await Http.JsonAsync(await client.GetAsync(location));
            if (done(status))
            {
                return status;
            }

            status.GetProperty("runtimeStatus").GetString().ShouldNotBe("Failed", status.ToString());
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"still {status}");
            await Task.Delay(200);
        }
    }
}
