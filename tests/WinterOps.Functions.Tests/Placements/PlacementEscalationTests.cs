using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>Nothing stalls silently: an unplaced placement is escalated, and again to the coordination centre past its required-by date.</summary>
public class PlacementEscalationTests
{
    [Fact]
    public async Task NoMatchingHome_IsUnplaced_AndTellsTheCoordinatorsAndTheReferringTeam()
    {
        await using var b = await StartAsync();
        await b.AddHomeAsync(Cqc(1), bedTypes: ["residential"]);                 // wrong bed type
        await b.AddHomeAsync(Cqc(2), clinicalExclusions: ["oxygen"]);            // cannot meet the patient's needs
        await b.AddHomeAsync(Cqc(3), occupied: 20, vacantAccepting: 0);          // full
        var body = b.RequestBody(clinicalFlags: ["oxygen"]);

        var placement = await b.RequestAsync(body);

        var id = Id(placement);
        Status(placement).ShouldBe("unplaced");
        placement.GetProperty("round").GetInt32().ShouldBe(0);
        placement.GetProperty("offers").GetArrayLength().ShouldBe(0);
        placement.GetProperty("escalated").GetBoolean().ShouldBeFalse();
        await b.SettledAsync(id);

        var coordinatorInbox = await InboxAsync(b.Coordinator);
        var forCoordinators = coordinatorInbox.EnumerateArray().Single(i => i.GetProperty("type").GetString() == "PlacementUnplaced");
        forCoordinators.GetProperty("recipient").GetString().ShouldBe("role:Coordinator");
        forCoordinators.GetProperty("data").GetProperty("placementId").GetString().ShouldBe(id);
        forCoordinators.GetProperty("link").GetString().ShouldBe($"/placements/{id}");
        var teamInbox = await InboxAsync(b.Team);
        var forTeam = teamInbox.EnumerateArray().Single(i => i.GetProperty("type").GetString() == "PlacementUnplaced");
        forTeam.GetProperty("recipient").GetString().ShouldBe($"org:{ReferringOrg}");
        forTeam.GetProperty("data").GetProperty("placementId").GetString().ShouldBe(id);

        // Minimum necessary data: who the patient is never travels in a notification.
        foreach (var inbox in new[] { coordinatorInbox, teamInbox })
        {
            var text = inbox.GetRawText();
            text.ShouldNotContain((string)body["patientRef"]!);
            text.ShouldNotContain((string)body["nhsNumber"]!);
            text.ShouldNotContain("hoist");
        }

        var history = (await b.HistoryAsync(id)).EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        history.ShouldBe(["PlacementRequested", "PlacementUnplaced"]);
    }

    [Fact]
    public async Task UnplacedPastItsRequiredByDate_IsEscalatedToTheCoordinationCentre_ByTheRequiredByTimer()
    {
        // The placement is requested three seconds before midnight (London) at the end of its required-by date, by
        // the app's clock, which then stands still: its timer fires and finds the date not yet past, until the clock
        // moves on past midnight.
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var b = await StartAsync(time: clock);
        using var executive = await b.App.ClientAsAsync("Executive", "QZZ"); // tokens are issued before the clock moves
        var requiredBy = b.Today;
        clock.UtcNow = London.StartOf(requiredBy.AddDays(1)).AddSeconds(-3);
        var placement = await b.RequestAsync(b.RequestBody(requiredBy: requiredBy)); // no care homes at all
        var id = Id(placement);
        Status(placement).ShouldBe("unplaced");
        var table = b.App.Get<StorageAccount>().Table(StorageNames.PlacementsTable);
        await EventuallyAsync(
            async () =>
            {
                await foreach (var _ in table.QueryAsync<TableEntity>($"PartitionKey eq '{id}' and RowKey ge 'step-timer-' and RowKey lt 'step-timer.'"))
                {
                    return true;
                }

                return false;
            },
            fired => fired, "the required-by timer to fire before midnight");
        await b.SettledAsync(id);
        (await b.GetPlacementAsync(id)).GetProperty("escalated").GetBoolean().ShouldBeFalse();

        clock.UtcNow = London.StartOf(requiredBy.AddDays(1)).AddMinutes(1);
        var after = await EventuallyAsync(() => b.GetPlacementAsync(id), p => p.GetProperty("escalated").GetBoolean(), "the required-by escalation");
        var version = await b.SettledAsync(id);

        Status(after).ShouldBe("unplaced");
        var told = (await InboxAsync(b.Team)).EnumerateArray().Where(i => i.GetProperty("type").GetString() == "PlacementEscalated").ToList();
        told.Count.ShouldBe(1);
        told[0].GetProperty("recipient").GetString().ShouldBe($"org:{ReferringOrg}");
        told[0].GetProperty("data").GetProperty("requiredBy").GetString().ShouldBe(Iso(requiredBy));

        // Rule 5: the coordination centre gets an escalation, re-alerted until a Coordinator acknowledges it.
        var escalationId = $"{Iso(requiredBy)}-PlacementUnplacedPastRequiredBy-{id}";
        var alerts = await EventuallyAsync( // alerted by the escalation's own orchestration
            async () => (await InboxAsync(b.Coordinator)).EnumerateArray().Where(i => i.GetProperty("type").GetString() == "EscalationAlert").ToList(),
            found => found.Count > 0, "the rule-5 alert");
        alerts.Count.ShouldBe(1);
        alerts[0].GetProperty("recipient").GetString().ShouldBe("role:Coordinator");
        alerts[0].GetProperty("data").GetProperty("placementId").GetString().ShouldBe(id);
        (await InboxAsync(b.Coordinator)).EnumerateArray().ShouldNotContain(i => i.GetProperty("type").GetString() == "PlacementEscalated"); // the alert, not both
        var byExecutive = await executive.PostAsJsonAsync($"/api/escalations/{escalationId}/acknowledge", new { note = "Not mine (test)." });
        byExecutive.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await Http.ProblemAsync(byExecutive);
        var acknowledged = await b.Coordinator.PostAsJsonAsync($"/api/escalations/{escalationId}/acknowledge", new { note = "Brokering by hand (test)." });
        acknowledged.StatusCode.ShouldBe(HttpStatusCode.OK, await acknowledged.Content.ReadAsStringAsync());
        (await Http.JsonAsync(acknowledged)).GetProperty("status").GetString().ShouldBe("acknowledged");

        var history = (await b.HistoryAsync(id)).EnumerateArray().ToList();
        history.Select(e => e.GetProperty("type").GetString()).ShouldBe(["PlacementRequested", "PlacementUnplaced", "PlacementEscalated"]);
        history[^1].GetProperty("by").GetString().ShouldBe("timer");
        version.ShouldBe(3);
    }

    [Fact]
    public async Task AnUnplacedPlacement_WaitsForTheEndOfItsRequiredByDate_AndIsNotEscalatedBefore()
    {
        await using var b = await StartAsync();
        var requiredBy = b.Today.AddDays(1);
        var id = Id(await b.RequestAsync(b.RequestBody(requiredBy: requiredBy)));

        await b.SettledAsync(id);

        var instance = await b.App.Get<Microsoft.DurableTask.Client.IDurableTaskClientProvider>().GetClient().GetInstanceAsync(id, getInputsAndOutputs: true);
        instance!.RuntimeStatus.ShouldBe(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Running);
        var status = System.Text.Json.JsonDocument.Parse(instance.SerializedCustomStatus!).RootElement;
        status.GetProperty("phase").GetString().ShouldBe("unplaced");
        status.GetProperty("waitingUntil").GetDateTimeOffset().ShouldBe(London.StartOf(requiredBy.AddDays(1)));
        (await b.GetPlacementAsync(id)).GetProperty("escalated").GetBoolean().ShouldBeFalse();
        (await InboxAsync(b.Coordinator)).EnumerateArray().ShouldNotContain(i => i.GetProperty("type").GetString() == "PlacementEscalated");
    }
}
