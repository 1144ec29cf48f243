using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using WinterOps.Core;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.OpenApi;

/// <summary>Representative flows through the API, every answer checked against docs/openapi.yaml (status, content type, headers, schema).</summary>
public class OpenApiFlowTests
{
    private static readonly HttpMethod Get = HttpMethod.Get;
    private static readonly HttpMethod Put = HttpMethod.Put;
    private static readonly HttpMethod Post = HttpMethod.Post;

    [Fact]
    public async Task PartnerCareHomePlacementAndReturn_AndTheirErrors_AnswerAsDocumented()
    {
        await using var app = await TestApp.StartAsync(localTriggers: true);
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Casey Coordinator (test)");
        var team = await app.ClientAsAsync("DischargeTeam", "RZ1", "Dana Discharge (test)");
        var broker = await app.ClientAsAsync("Broker", Brokerage.Cqc(1), "Robin Broker (test)");
        var otherBroker = await app.ClientAsAsync("Broker", Brokerage.Cqc(2), "Jo Broker (test)");
        var partner = await app.ClientAsAsync("Partner", "RZ1", "Pat Partner (test)");
        var today = London.Today(DateTimeOffset.UtcNow);
        string Day(int days) => today.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        // Partners: created, read, stale If-Match, invalid, unauthenticated, wrong role, unknown, wrong content type.
        var (created, _) = await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", Http.Partner());
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", Http.Partner(name: "Renamed (test)"))).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await coordinator.SendAsync(Get, "/api/partners/{odsCode}", "/api/partners/RZ1")).Response.Headers.ETag!.Tag.ShouldBe("\"2\"");
        (await coordinator.SendAsync(Get, "/api/partners", "/api/partners")).Body!.Value.GetArrayLength().ShouldBe(1);
        var (stale, staleBody) = await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", Http.Partner(), h => h.IfMatch.ParseAdd("\"1\""));
        stale.StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);
        staleBody!.Value.GetProperty("currentETag").GetString().ShouldBe("\"2\"");
        (await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/rz1", new { name = "x", sector = "acute", sizeWeight = 1, expectedDaily = true, extra = 1 }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ3", new { name = "x", sector = "hospital", sizeWeight = 0 }))
            .Body!.Value.GetProperty("errors").EnumerateObject().Select(e => e.Name).ShouldBe(["sector", "sizeWeight", "expectedDaily"], ignoreOrder: true);
        (await app.Client.SendAsync(Get, "/api/partners", "/api/partners")).Response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await partner.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", Http.Partner())).Response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await coordinator.SendAsync(Get, "/api/partners/{odsCode}", "/api/partners/RZ9")).Response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", new StringContent("name=x", Encoding.UTF8, "text/plain")))
            .Response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await coordinator.SendAsync(Put, "/api/partners/{odsCode}", "/api/partners/RZ1", new StringContent(new string(' ', 600 * 1024), Encoding.UTF8, "application/json")))
            .Response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);

        // Care homes and vacancies.
        foreach (var n in new[] { 1, 2 })
        {
            var home = new { name = $"Home {n} (test)", locality = "Bedmoor", bedTypes = new[] { "residential" }, cqcRating = "good" };
            (await coordinator.SendAsync(Put, "/api/care-homes/{cqcLocationId}", $"/api/care-homes/{Brokerage.Cqc(n)}", home)).Response.StatusCode.ShouldBe(HttpStatusCode.Created);
            var vacancies = new { asOf = DateTimeOffset.UtcNow.AddMinutes(-5), beds = new { residential = new { maxCapacity = 10, occupied = 7, vacantReserved = 0, vacantAccepting = 3 } } };
            (await coordinator.SendAsync(Put, "/api/care-homes/{cqcLocationId}/vacancies", $"/api/care-homes/{Brokerage.Cqc(n)}/vacancies", vacancies))
                .Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await coordinator.SendAsync(Get, "/api/care-homes", "/api/care-homes?bedType=residential")).Body!.Value.GetArrayLength().ShouldBe(2);
        (await coordinator.SendAsync(Get, "/api/care-homes/{cqcLocationId}", $"/api/care-homes/{Brokerage.Cqc(1)}")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await otherBroker.SendAsync(Put, "/api/care-homes/{cqcLocationId}/vacancies", $"/api/care-homes/{Brokerage.Cqc(1)}/vacancies", new { asOf = DateTimeOffset.UtcNow, beds = new { } }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        // A placement: requested (replayed with its key, refused with another body), accepted, a late accept refused, admitted.
        var request = new { patientRef = "TEST-0001", referringOrg = "RZ1", pathway = "P3", bedType = "residential", fundingRoute = "localAuthority", requiredBy = Day(3) };
        var (requested, placement) = await team.SendAsync(Post, "/api/placements", "/api/placements", request, h => h.Add("Idempotency-Key", "flow-1"));
        requested.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = placement!.Value.GetProperty("placementId").GetString()!;
        requested.Headers.Location!.ToString().ShouldBe($"/api/placements/{id}");
        var (replayed, _) = await team.SendAsync(Post, "/api/placements", "/api/placements", request, h => h.Add("Idempotency-Key", "flow-1"));
        replayed.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await team.SendAsync(Post, "/api/placements", "/api/placements", request with { patientRef = "TEST-0002" }, h => h.Add("Idempotency-Key", "flow-1")))
            .Response.StatusCode.ShouldBe((HttpStatusCode)422);
        (await team.SendAsync(Post, "/api/placements", "/api/placements", new StringContent("{\"patientRef\":", Encoding.UTF8, "application/json")))
            .Response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await team.SendAsync(Get, "/api/placements", "/api/placements?status=awaitingResponses")).Body!.Value.GetArrayLength().ShouldBe(1);
        (await broker.SendAsync(Get, "/api/placements/{placementId}", $"/api/placements/{id}")).Body!.Value.GetProperty("patientRef").ValueKind.ShouldBe(JsonValueKind.Null);
        var accept = new { admissionDate = Day(1), contactName = "Robin Broker" };
        (await broker.SendAsync(Post, "/api/placements/{placementId}/offers/{cqcLocationId}/accept", $"/api/placements/{id}/offers/{Brokerage.Cqc(1)}/accept", accept))
            .Body!.Value.GetProperty("status").GetString().ShouldBe("booked");
        var (late, lateBody) = await otherBroker.SendAsync(Post, "/api/placements/{placementId}/offers/{cqcLocationId}/accept", $"/api/placements/{id}/offers/{Brokerage.Cqc(2)}/accept", accept);
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        lateBody!.Value.GetProperty("state").GetString().ShouldBe("booked");
        (await otherBroker.SendAsync(Post, "/api/placements/{placementId}/offers/{cqcLocationId}/decline", $"/api/placements/{id}/offers/{Brokerage.Cqc(2)}/decline", new { reason = "noBedAvailable" }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await broker.SendAsync(Post, "/api/placements/{placementId}/admitted", $"/api/placements/{id}/admitted", new { admittedOn = Day(0) }))
            .Body!.Value.GetProperty("status").GetString().ShouldBe("admitted");
        (await team.SendAsync(Post, "/api/placements/{placementId}/cancel", $"/api/placements/{id}/cancel", new { reason = "Too late" })).Response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await team.SendAsync(Get, "/api/placements/{placementId}/history", $"/api/placements/{id}/history")).Body!.Value.GetArrayLength().ShouldBeGreaterThan(2);
        (await coordinator.SendAsync(Get, "/api/placements/{placementId}", "/api/placements/PL0123456789AB")).Response.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // The projections the dispatcher keeps: the home's offer list and the team's inbox.
        await EventuallyAsync(async () => (await broker.SendAsync(Get, "/api/care-homes/{cqcLocationId}/offers", $"/api/care-homes/{Brokerage.Cqc(1)}/offers")).Body!.Value.GetArrayLength() > 0);
        await EventuallyAsync(async () => (await team.SendAsync(Get, "/api/inbox", "/api/inbox?limit=1")).Body!.Value.GetArrayLength() > 0);

        // A daily return, the round, the system status and history.
        var metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = 20, ["edFourHourPerformancePct"] = 75, ["edAttendanceVariationPct"] = 2, ["majorsResusOccupancyPct"] = 80,
            ["medianTimeToTreatmentMinutes"] = 50, ["edOver12HoursPct"] = 1, ["generalAcuteBedOccupancyPct"] = 90, ["escalationBedsPct"] = 0, ["noCriteriaToResidePct"] = 8,
        };
        (await partner.SendAsync(Put, "/api/returns/{date}/{odsCode}", $"/api/returns/{Day(0)}/RZ1", new { metrics })).Body!.Value.GetProperty("revision").GetInt32().ShouldBe(1);
        (await partner.SendAsync(Put, "/api/returns/{date}/{odsCode}", $"/api/returns/{Day(0)}/RZ1", new { metrics = new { meanAmbulanceHandoverMinutes = "slow" } }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await partner.SendAsync(Get, "/api/returns/{date}/{odsCode}", $"/api/returns/{Day(0)}/RZ1")).Body!.Value.GetProperty("revisions").GetArrayLength().ShouldBe(1);
        (await partner.SendAsync(Get, "/api/returns/{date}", $"/api/returns/{Day(0)}")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await coordinator.SendAsync(Get, "/api/system/status", "/api/system/status")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await coordinator.SendAsync(Get, "/api/system/history", "/api/system/history")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await coordinator.SendAsync(Get, "/api/opel/frameworks", "/api/opel/frameworks")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await coordinator.SendAsync(Get, "/api/operations/dead-letters", "/api/operations/dead-letters")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.Client.SendAsync(Get, "/api/health", "/api/health")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnEscalation_IsListedAcknowledgedAndResolved_AsDocumented()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(localTriggers: true, configure: b => b.Configuration["Demo:Seed"] = "true", time: clock);
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var executive = await app.ClientAsAsync("Executive", "QZZ", "Exec On Call");
        clock.UtcNow = London.At(London.Today(clock.UtcNow), new TimeOnly(7, 0)); // after the tokens: they are checked against real time
        await EventuallyAsync(async () => (await coordinator.SendAsync(Get, "/api/partners", "/api/partners")).Body!.Value.GetArrayLength() >= 12);

        (await coordinator.SendAsync(Post, "/api/dev/simulate-morning", "/api/dev/simulate-morning")).Response.StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonElement open = default;
        await EventuallyAsync(async () => (open = (await executive.SendAsync(Get, "/api/escalations", "/api/escalations?status=open")).Body!.Value).GetArrayLength() > 0);
        var id = open[0].GetProperty("escalationId").GetString()!;

        (await executive.SendAsync(Get, "/api/system/status", "/api/system/status")).Body!.Value.GetProperty("openEscalations").GetArrayLength().ShouldBe(1);
        (await executive.SendAsync(Get, "/api/escalations/{escalationId}", $"/api/escalations/{id}")).Response.Headers.ETag.ShouldNotBeNull();
        (await coordinator.SendAsync(Post, "/api/escalations/{escalationId}/acknowledge", $"/api/escalations/{id}/acknowledge", new { }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.Forbidden); // an OPEL escalation alerts the executives
        (await executive.SendAsync(Post, "/api/escalations/{escalationId}/acknowledge", $"/api/escalations/{id}/acknowledge", new { note = "On it" }))
            .Body!.Value.GetProperty("status").GetString().ShouldBe("acknowledged");
        (await executive.SendAsync(Post, "/api/escalations/{escalationId}/acknowledge", $"/api/escalations/{id}/acknowledge", new { note = "Again" }))
            .Body!.Value.GetProperty("acknowledgement").GetProperty("note").GetString().ShouldBe("On it"); // a second acknowledgement changes nothing
        (await coordinator.SendAsync(Post, "/api/escalations/{escalationId}/resolve", $"/api/escalations/{id}/resolve", new { reason = "Pressure eased" }, h => h.IfMatch.ParseAdd("\"1\"")))
            .Response.StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);
        (await coordinator.SendAsync(Post, "/api/escalations/{escalationId}/resolve", $"/api/escalations/{id}/resolve", new { reason = "Pressure eased" }))
            .Body!.Value.GetProperty("status").GetString().ShouldBe("resolved");
        (await executive.SendAsync(Post, "/api/escalations/{escalationId}/acknowledge", $"/api/escalations/{id}/acknowledge", new { }))
            .Response.StatusCode.ShouldBe(HttpStatusCode.Conflict); // nothing to acknowledge
        (await executive.SendAsync(Get, "/api/escalations", "/api/escalations")).Body!.Value.GetArrayLength().ShouldBeGreaterThan(0);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new ShouldAssertException("The condition did not hold within 30 seconds.");
    }
}
