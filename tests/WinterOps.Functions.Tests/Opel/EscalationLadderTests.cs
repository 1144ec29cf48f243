using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Tests.Hosting;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>
/// The escalation ladder as an orchestration on real Azurite, with short acknowledgement windows: raised by a partner's
/// return at OPEL 4 (rule 2), alerted step by step until someone acknowledges; one instance and one alert per condition.
/// The steps' order is asserted, never their timing.
/// </summary>
public sealed class EscalationLadderTests
{
    private static readonly string[] Ladder = ["First On Call (test)", "Second On Call (test)", "Third On Call (test)"];

    private static object Partner() => new
    {
        name = "Synthetic Trust 1 (test)",
        sector = "acute",
        sizeWeight = 100,
        expectedDaily = true,
        contacts = Ladder.Select((name, i) => new { name, entraUserId = (string?)null, role = "On-call director", onCallOrder = i + 1 }).ToArray(),
    };

    private static string Id(DateOnly day) => EscalationWorkflow.Key(day, EscalationRule.PartnerAtOpel4, OpelRound.Ods(1));

    [Fact]
    public async Task NotAcknowledged_TheNextContactsAreAlerted_InLadderOrder_EachOnce()
    {
        await using var app = await StartAsync(window: "00:00:03");
        var (executive, day) = await RaiseAsync(app);

        var escalation = await Brokerage.EventuallyAsync(
            async () => await Http.JsonAsync(await executive.GetAsync($"/api/escalations/{Id(day)}")), e => e.GetProperty("alerts").GetArrayLength() >= 3, "step 3");

        var alerts = escalation.GetProperty("alerts").EnumerateArray().Take(3).ToList();
        alerts.Select(a => a.GetProperty("step").GetInt32()).ShouldBe([1, 2, 3]);
        alerts.Select(a => a.GetProperty("contact").GetProperty("name").GetString()).ShouldBe(Ladder);
        var told = await Brokerage.EventuallyAsync(() => AlertStepsAsync(executive, day), steps => steps.Count >= 3, "step 3's notice");
        told.Take(3).ShouldBe([1, 2, 3]); // one notice per step, none twice
        told.Distinct().Count().ShouldBe(told.Count);
    }

    [Fact]
    public async Task Acknowledged_NoFurtherContactIsAlerted()
    {
        await using var app = await StartAsync(window: "00:00:02");
        var (executive, day) = await RaiseAsync(app);
        await Brokerage.EventuallyAsync(() => AlertStepsAsync(executive, day), steps => steps.Count >= 1, "the first alert");

        var acknowledged = await executive.PostAsJsonAsync($"/api/escalations/{Id(day)}/acknowledge", new { note = "On it (test)" });
        acknowledged.StatusCode.ShouldBe(HttpStatusCode.OK, await acknowledged.Content.ReadAsStringAsync());
        var atAcknowledgement = await Http.JsonAsync(acknowledged);
        atAcknowledgement.GetProperty("status").GetString().ShouldBe("acknowledged");

        await Task.Delay(TimeSpan.FromSeconds(5)); // two and a half windows: room for an alert that should not come
        var later = await Http.JsonAsync(await executive.GetAsync($"/api/escalations/{Id(day)}"));
        later.GetProperty("alerts").GetArrayLength().ShouldBe(atAcknowledgement.GetProperty("alerts").GetArrayLength());
        (await AlertStepsAsync(executive, day)).Count.ShouldBe(atAcknowledgement.GetProperty("alerts").GetArrayLength());
        later.GetProperty("acknowledgement").GetProperty("note").GetString().ShouldBe("On it (test)");
    }

    [Fact]
    public async Task TheSameConditionRaisedAgain_ByTheReturnAndByAssessments_IsOneInstance_AndOneAlert()
    {
        await using var app = await StartAsync(window: "00:30:00");
        var (executive, day) = await RaiseAsync(app);
        var raise = RoundWorkflow.RaisePartnerAtOpel4(day, OpelRound.Ods(1), [new OnCallContact("Someone Else (test)", null, OpelRound.Ods(1))], TimeSpan.FromMinutes(30), DateTimeOffset.UtcNow);
        var durable = app.Get<Microsoft.DurableTask.Client.IDurableTaskClientProvider>().GetClient();
        await Task.WhenAll(Enumerable.Range(1, 4).Select(i =>
            app.Get<Escalations>().ApplyAsync(durable, raise, $"test-assessment-{i}", Actor.System("test"), CancellationToken.None)));

        await Brokerage.EventuallyAsync(() => AlertStepsAsync(executive, day), steps => steps.Count >= 1, "the alert");
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a second alert that should not come
        (await AlertStepsAsync(executive, day)).ShouldBe([1]);
        var all = await Http.JsonAsync(await executive.GetAsync("/api/escalations"));
        all.EnumerateArray().Select(e => e.GetProperty("escalationId").GetString()).ShouldBe([Id(day)]);
        all[0].GetProperty("alerts")[0].GetProperty("contact").GetProperty("name").GetString().ShouldBe(Ladder[0]); // the first raise's ladder
        (await durable.GetInstanceAsync(EscalationOrchestration.InstanceId(Id(day)))).ShouldNotBeNull();
    }

    [Fact]
    public async Task AHardKillMidLadder_TheLadderGoesOnFromWhereItWas_NoStepTwice()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "e" + Guid.NewGuid().ToString("N")[..12];
        var port = AzuriteServer.FreePort();
        var settings = new Dictionary<string, string> { ["Escalations:AcknowledgeWithin"] = "00:00:08", ["Escalations:Rules:0"] = "PartnerAtOpel4" };
        var day = London.Today(DateTimeOffset.UtcNow);
        using (var first = HostProcess.Start(azurite, prefix, port, settings))
        {
            try
            {
                var coordinator = await HostProcess.SignInAsync(port);
                (await coordinator.PutAsJsonAsync($"/api/partners/{OpelRound.Ods(1)}", Partner())).StatusCode.ShouldBe(HttpStatusCode.Created);
                var partner = await HostProcess.SignInAsync(port, "Partner", OpelRound.Ods(1), "Reporter (test)");
                (await partner.PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(1)}", OpelRound.Return(declaredLevel: 4))).EnsureSuccessStatusCode();

                // Killed while it waits on step 1's window (its first alert notified: version 2), not mid-step.
                await Brokerage.EventuallyAsync(
                    () => HostProcess.CustomStatusAsync(azurite, prefix, EscalationOrchestration.InstanceId(Id(day))),
                    status => status.Contains("\"version\":2", StringComparison.Ordinal), "the ladder to wait on step 1");
            }
            finally
            {
                await HostProcess.KillAsync(first);
            }
        }

        using var second = HostProcess.Start(azurite, prefix, port, settings);
        try
        {
            var executive = await HostProcess.SignInAsync(port, "Executive", "QZZ", "Exec On Call (test)");
            var escalation = await Brokerage.EventuallyAsync(
                async () => await Http.JsonAsync(await executive.GetAsync($"/api/escalations/{Id(day)}")), e => e.GetProperty("alerts").GetArrayLength() >= 3,
                "step 3 after the restart", TimeSpan.FromSeconds(120));

            escalation.GetProperty("alerts").EnumerateArray().Take(3).Select(a => a.GetProperty("contact").GetProperty("name").GetString()).ShouldBe(Ladder);
            var told = await Brokerage.EventuallyAsync(() => AlertStepsAsync(executive, day), steps => steps.Count >= 3, "step 3's notice");
            told.Take(3).ShouldBe([1, 2, 3]); // the next step after the restart, not step 1 again
            told.Distinct().Count().ShouldBe(told.Count);
        }
        finally
        {
            await HostProcess.KillAsync(second);
        }
    }

    private static Task<TestApp> StartAsync(string window) => TestApp.StartAsync(configure: b =>
    {
        b.Configuration["Escalations:AcknowledgeWithin"] = window;
        b.Configuration["Escalations:Rules:0"] = "PartnerAtOpel4";
    });

    /// <summary>Registers the partner and has it report at OPEL 4, which raises its escalation at once.</summary>
    private static async Task<(HttpClient Executive, DateOnly Day)> RaiseAsync(TestApp app)
    {
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Casey Coordinator (test)");
        (await coordinator.PutAsJsonAsync($"/api/partners/{OpelRound.Ods(1)}", Partner())).StatusCode.ShouldBe(HttpStatusCode.Created);
        using var partner = await app.ClientAsAsync("Partner", OpelRound.Ods(1), "Reporter (test)");
        var day = London.Today(DateTimeOffset.UtcNow);
        var put = await partner.PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(1)}", OpelRound.Return(declaredLevel: 4));
        put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        return (await app.ClientAsAsync("Executive", "QZZ", "Exec On Call (test)"), day);
    }

    /// <summary>The steps of the escalation's alerts in the executives' inbox, oldest first.</summary>
    private static async Task<List<int>> AlertStepsAsync(HttpClient executive, DateOnly day)
    {
        var inbox = await Http.JsonAsync(await executive.GetAsync("/api/inbox?limit=100"));
        return inbox.EnumerateArray()
            .Where(i => i.GetProperty("type").GetString() == "EscalationAlert" && i.GetProperty("data").GetProperty("escalationId").GetString() == Id(day))
            .Select(i => int.Parse(i.GetProperty("data").GetProperty("step").GetString()!, System.Globalization.CultureInfo.InvariantCulture))
            .Order().ToList();
    }
}
