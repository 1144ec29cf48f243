using System.Net;
using System.Net.Http.Json;
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
        (await b.DispatchPlacementAsync(id)).ShouldBeGreaterThan(0);

        var coordinatorInbox = await InboxAsync(b.Coordinator);
        var forCoordinators = coordinatorInbox.EnumerateArray().Single(i => i.GetProperty("type").GetString() == "PlacementUnplaced");
        forCoordinators.GetProperty("recipient").GetString().ShouldBe("role:Coordinator");
        forCoordinators.GetProperty("data").GetProperty("placementId").GetString().ShouldBe(id);
        forCoordinators.GetProperty("link").GetString().ShouldBe($"/api/placements/{id}");
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
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var b = await StartAsync(time: clock);
        var today = b.Today;
        var placement = await b.RequestAsync(b.RequestBody(requiredBy: today)); // no care homes at all
        var id = Id(placement);
        Status(placement).ShouldBe("unplaced");
        placement.GetProperty("escalated").GetBoolean().ShouldBeFalse();

        using var executive = await b.App.ClientAsAsync("Executive", "QZZ"); // tokens are issued before the clock moves

        // Just past midnight (London) after the required-by date, the CheckRequiredBy timer falls due.
        clock.UtcNow = London.StartOf(today.AddDays(1)).AddMinutes(1);
        await b.DispatchPlacementAsync(id);
        var ran = await b.RunQueuedCommandsAsync();
        await b.DispatchPlacementAsync(id);

        ran.Select(m => m.CommandType).ShouldBe(["CheckRequiredBy"]);
        var after = await b.GetPlacementAsync(id);
        after.GetProperty("escalated").GetBoolean().ShouldBeTrue();
        Status(after).ShouldBe("unplaced");
        var told = (await InboxAsync(b.Team)).EnumerateArray().Where(i => i.GetProperty("type").GetString() == "PlacementEscalated").ToList();
        told.Count.ShouldBe(1);
        told[0].GetProperty("recipient").GetString().ShouldBe($"org:{ReferringOrg}");
        told[0].GetProperty("data").GetProperty("requiredBy").GetString().ShouldBe(Iso(today));

        // Rule 5: the coordination centre gets an escalation, re-alerted until a Coordinator acknowledges it.
        (await b.RunQueuedCommandsAsync()).Select(m => m.CommandType).ShouldBe(["RaiseEscalation"]);
        var escalationId = $"{Iso(today)}-PlacementUnplacedPastRequiredBy-{id}";
        await b.DispatchAsync($"escalation-{escalationId}");
        var alerts = (await InboxAsync(b.Coordinator)).EnumerateArray().Where(i => i.GetProperty("type").GetString() == "EscalationAlert").ToList();
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

        var last = (await b.HistoryAsync(id)).EnumerateArray().Last();
        last.GetProperty("type").GetString().ShouldBe("PlacementEscalated");
        last.GetProperty("by").GetString().ShouldBe("timer");

        // The timer delivered again (queues are at least once) escalates nothing twice.
        await b.RunCommandAsync(ran[0].Text);
        (await b.HistoryAsync(id)).GetArrayLength().ShouldBe(3);
    }

    [Fact]
    public async Task RequiredByTimer_BeforeTheDateHasPassed_DoesNotEscalate()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var b = await StartAsync(time: clock);
        var today = b.Today;
        var id = Id(await b.RequestAsync(b.RequestBody(requiredBy: today.AddDays(1))));

        // Past midnight after today, but the required-by date (tomorrow) is not over: the timer is still hidden in the timers queue.
        clock.UtcNow = London.StartOf(today.AddDays(1)).AddMinutes(1);
        await b.DispatchPlacementAsync(id);

        (await b.RunQueuedCommandsAsync()).ShouldBeEmpty();
        (await b.GetPlacementAsync(id)).GetProperty("escalated").GetBoolean().ShouldBeFalse();
        (await InboxAsync(b.Coordinator)).EnumerateArray().ShouldNotContain(i => i.GetProperty("type").GetString() == "PlacementEscalated");
    }
}
