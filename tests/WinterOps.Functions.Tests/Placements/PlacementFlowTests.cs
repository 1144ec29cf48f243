using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>The placement process end to end over HTTP: offer rounds, acceptance, declines, expiry, cancellation, admission.</summary>
public class PlacementFlowTests
{
    [Fact]
    public async Task Request_OffersTheTopThreeHomes_AndAnAcceptanceBooks_WithdrawsTheOthers_AndHoldsABed()
    {
        await using var b = await StartAsync();
        var best = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding", vacantAccepting: 3);
        var second = await b.AddHomeAsync(Cqc(2), cqcRating: "good", vacantAccepting: 2);
        var third = await b.AddHomeAsync(Cqc(3), cqcRating: "good", vacantAccepting: 2);
        var worse = await b.AddHomeAsync(Cqc(4), cqcRating: "requiresImprovement", vacantAccepting: 5);
        var elsewhere = await b.AddHomeAsync(Cqc(5), locality: "Ouseford", cqcRating: "outstanding", vacantAccepting: 5);
        var body = b.RequestBody(preferredLocalities: ["Bedmoor", "Ouseford"]);

        var response = await b.PostRequestAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var placement = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = Id(placement);
        response.Headers.Location!.ToString().ShouldBe($"/api/placements/{id}");
        response.Headers.ETag.ShouldNotBeNull();
        Status(placement).ShouldBe("awaitingResponses");
        placement.GetProperty("round").GetInt32().ShouldBe(1);
        placement.GetProperty("patientRef").GetString().ShouldBe((string)body["patientRef"]!);
        placement.GetProperty("booking").ValueKind.ShouldBe(JsonValueKind.Null);
        OfferedHomes(placement).ShouldBe([best, second, third]);
        var requestedAt = placement.GetProperty("requestedAt").GetDateTimeOffset();
        foreach (var offer in Offers(placement))
        {
            offer.GetProperty("status").GetString().ShouldBe("open");
            offer.GetProperty("round").GetInt32().ShouldBe(1);
            offer.GetProperty("expiresAt").GetDateTimeOffset().ShouldBe(requestedAt + TimeSpan.FromHours(4));
        }

        var accepted = await b.AcceptAsync(id, second);

        accepted.StatusCode.ShouldBe(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var booked = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Status(booked).ShouldBe("booked");
        booked.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(second);
        booked.GetProperty("booking").GetProperty("admissionDate").GetString().ShouldBe(Iso(b.Today.AddDays(1)));

        var read = await b.GetPlacementAsync(id, b.Team);
        Status(read).ShouldBe("booked");
        OfferStatus(read, second).ShouldBe("accepted");
        OfferStatus(read, best).ShouldBe("withdrawn");
        OfferStatus(read, third).ShouldBe("withdrawn");

        var beds = await b.NursingBedsAsync(second);
        beds.GetProperty("vacantAccepting").GetInt32().ShouldBe(2);
        beds.GetProperty("heldByWinterOps").GetInt32().ShouldBe(1);
        beds.GetProperty("free").GetInt32().ShouldBe(1);
        foreach (var other in new[] { best, third, worse, elsewhere })
        {
            (await b.HeldAsync(other)).ShouldBe(0, other);
        }

        var history = (await b.HistoryAsync(id, b.Team)).EnumerateArray().ToList();
        history.Select(e => e.GetProperty("type").GetString()).ShouldBe(["PlacementRequested", "OffersMade", "PlacementBooked", "OffersWithdrawn"]);
        history.Select(e => e.GetProperty("by").GetString()).ShouldBe([TeamName, TeamName, BrokerName(second), BrokerName(second)]);
        history.Select(e => e.GetProperty("version").GetInt64()).ShouldBe([1L, 2L, 3L, 4L]);
        history[3].GetProperty("data").GetProperty("cqcLocationIds").EnumerateArray().Select(h => h.GetString()).Order(StringComparer.Ordinal)
            .ShouldBe([best, third]);

        // Once the orchestration has told people, the homes' offer lists and the team's inbox say what happened.
        await b.SettledAsync(id);
        var bestOffers = await Http.JsonAsync(await (await b.BrokerAsync(best)).GetAsync($"/api/care-homes/{best}/offers"));
        bestOffers.EnumerateArray().Single().GetProperty("status").GetString().ShouldBe("withdrawn");
        var open = await Http.JsonAsync(await (await b.BrokerAsync(second)).GetAsync($"/api/care-homes/{second}/offers?status=open"));
        open.GetArrayLength().ShouldBe(0);
        var teamInbox = await InboxAsync(b.Team);
        teamInbox.EnumerateArray().ShouldContain(i => i.GetProperty("type").GetString() == "PlacementBooked"
                                                      && i.GetProperty("data").GetProperty("cqcLocationId").GetString() == second);
    }

    [Fact]
    public async Task AcceptAndDecline_WithTheCurrentIfMatch_Apply_AndAnswerTheNextETag()
    {
        await using var b = await StartAsync();
        var h1 = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        var h2 = await b.AddHomeAsync(Cqc(2), cqcRating: "good");
        var requested = await b.RequestAsync();
        var id = Id(requested);

        async Task<HttpResponseMessage> Answer(string home, string answer, object body, string etag)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/placements/{id}/offers/{home}/{answer}") { Content = JsonContent.Create(body) };
            request.Headers.TryAddWithoutValidation("If-Match", etag);
            return await (await b.BrokerAsync(home)).SendAsync(request);
        }

        var declined = await Answer(h1, "decline", new { reason = "noBedAvailable" }, $"\"{requested.GetProperty("version").GetInt64()}\"");
        declined.StatusCode.ShouldBe(HttpStatusCode.OK, await declined.Content.ReadAsStringAsync());
        var accepted = await Answer(h2, "accept", new { admissionDate = Iso(b.Today.AddDays(1)), contactName = "Morgan Manager (test)" }, declined.Headers.ETag!.Tag);

        accepted.StatusCode.ShouldBe(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        Status(await Http.JsonAsync(accepted)).ShouldBe("booked");
    }

    [Fact]
    public async Task TwoDeclines_ThenAnAcceptance_BooksTheAcceptingHome()
    {
        await using var b = await StartAsync();
        var h1 = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        var h2 = await b.AddHomeAsync(Cqc(2), cqcRating: "outstanding");
        var h3 = await b.AddHomeAsync(Cqc(3), cqcRating: "good");
        var h4 = await b.AddHomeAsync(Cqc(4), cqcRating: "inadequate");
        var id = Id(await b.RequestAsync());

        var first = await b.DeclineAsync(id, h1, "noBedAvailable");
        var second = await b.DeclineAsync(id, h2, "other", "Synthetic: cannot staff a hoist at night.");
        var accept = await b.AcceptAsync(id, h3);

        Status(await Http.JsonAsync(first)).ShouldBe("awaitingResponses");
        Status(await Http.JsonAsync(second)).ShouldBe("awaitingResponses");
        accept.StatusCode.ShouldBe(HttpStatusCode.OK, await accept.Content.ReadAsStringAsync());
        var placement = await b.GetPlacementAsync(id);
        Status(placement).ShouldBe("booked");
        placement.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(h3);
        placement.GetProperty("round").GetInt32().ShouldBe(1);
        OfferStatus(placement, h1).ShouldBe("declined");
        OfferStatus(placement, h2).ShouldBe("declined");
        OfferStatus(placement, h3).ShouldBe("accepted");
        OfferedHomes(placement).ShouldNotContain(h4);
        (await b.HeldAsync(h3)).ShouldBe(1);
        (await b.HeldAsync(h1)).ShouldBe(0);
        var history = (await b.HistoryAsync(id)).EnumerateArray().ToList();
        history.Select(e => e.GetProperty("type").GetString())
            .ShouldBe(["PlacementRequested", "OffersMade", "OfferDeclined", "OfferDeclined", "PlacementBooked"]);
        history[3].GetProperty("data").GetProperty("reason").GetString().ShouldBe("other");
        history[3].GetProperty("by").GetString().ShouldBe(BrokerName(h2));
    }

    [Fact]
    public async Task AWholeRoundExpiring_StartsRound2_WithTheNextHomes()
    {
        // The orchestration's durable timer fires two seconds after the offers are made.
        await using var b = await StartAsync(responseWindow: TimeSpan.FromSeconds(2));
        string[] first = [await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding"), await b.AddHomeAsync(Cqc(2), cqcRating: "outstanding"), await b.AddHomeAsync(Cqc(3), cqcRating: "outstanding")];
        string[] next = [await b.AddHomeAsync(Cqc(4), cqcRating: "good"), await b.AddHomeAsync(Cqc(5), cqcRating: "good"), await b.AddHomeAsync(Cqc(6), cqcRating: "good")];
        var placement = await b.RequestAsync();
        var id = Id(placement);
        OfferedHomes(placement, round: 1).ShouldBe(first);

        var later = await EventuallyAsync(() => b.GetPlacementAsync(id), p => p.GetProperty("round").GetInt32() >= 2, "round 2");

        Offers(later).Where(o => o.GetProperty("round").GetInt32() == 1).Select(o => o.GetProperty("status").GetString()).ShouldAllBe(s => s == "expired");
        var round2 = OfferedHomes(later, round: 2);
        round2.ShouldBe(next);
        round2.Intersect(first).ShouldBeEmpty();
        var history = (await b.HistoryAsync(id)).EnumerateArray().ToList();
        var expired = history.Where(e => e.GetProperty("type").GetString() == "OfferExpired").Take(3).ToList();
        expired.Select(e => e.GetProperty("data").GetProperty("cqcLocationId").GetString()).Order(StringComparer.Ordinal).ShouldBe(first);
        expired.ShouldAllBe(e => e.GetProperty("by").GetString() == "timer");
    }

    [Fact]
    public async Task CancellingABookedPlacement_ReleasesTheBed()
    {
        await using var b = await StartAsync();
        var h1 = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding", vacantAccepting: 2);
        var h2 = await b.AddHomeAsync(Cqc(2), cqcRating: "good");
        var id = Id(await b.RequestAsync());
        (await b.AcceptAsync(id, h1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await b.HeldAsync(h1)).ShouldBe(1);

        var cancelled = await b.CancelAsync(id);

        Status(await Http.JsonAsync(cancelled)).ShouldBe("cancelled");
        var beds = await EventuallyAsync(() => b.NursingBedsAsync(h1), beds => beds.GetProperty("heldByWinterOps").GetInt32() == 0, "the bed to be released");
        beds.GetProperty("free").GetInt32().ShouldBe(2);
        (await b.HeldAsync(h2)).ShouldBe(0);
        var history = (await b.HistoryAsync(id)).EnumerateArray().ToList();
        history[^1].GetProperty("type").GetString().ShouldBe("PlacementCancelled");
        history[^1].GetProperty("by").GetString().ShouldBe(TeamName);
        history[^1].GetProperty("data").GetProperty("releasedCqcLocationId").GetString().ShouldBe(h1);
        await EventuallyAsync(
            () => InboxAsync(b.Team), inbox => inbox.EnumerateArray().Any(i => i.GetProperty("type").GetString() == "PlacementCancelled"),
            "the team to be told of the cancellation");
    }

    [Fact]
    public async Task RecordedAdmission_TurnsTheHeldBedIntoAnOccupiedOne()
    {
        await using var b = await StartAsync();
        var home = await b.AddHomeAsync(Cqc(1), maxCapacity: 20, occupied: 10, vacantAccepting: 2);
        var id = Id(await b.RequestAsync());
        (await b.AcceptAsync(id, home, admissionDate: b.Today)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var admitted = await b.AdmittedAsync(id, home, b.Today);

        Status(await Http.JsonAsync(admitted)).ShouldBe("admitted");
        await b.SettledAsync(id);
        var beds = await b.NursingBedsAsync(home);
        beds.GetProperty("occupied").GetInt32().ShouldBe(11);
        beds.GetProperty("vacantAccepting").GetInt32().ShouldBe(1);
        beds.GetProperty("heldByWinterOps").GetInt32().ShouldBe(0);
        beds.GetProperty("free").GetInt32().ShouldBe(1);
        var history = (await b.HistoryAsync(id, await b.BrokerAsync(home))).EnumerateArray().ToList();
        history[^1].GetProperty("type").GetString().ShouldBe("PlacementAdmitted");
        history[^1].GetProperty("by").GetString().ShouldBe(BrokerName(home));
        (await InboxAsync(b.Team)).EnumerateArray().ShouldContain(i => i.GetProperty("type").GetString() == "PlacementAdmitted");

        // Admitted is final: no cancellation, no further acceptance.
        var cancel = await b.CancelAsync(id);
        cancel.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await Http.ProblemAsync(cancel)).GetProperty("detail").GetString()!.ShouldContain("admitted");
        var accept = await b.AcceptAsync(id, home);
        accept.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        await Http.ProblemAsync(accept);
        Status(await b.GetPlacementAsync(id)).ShouldBe("admitted");
    }

    [Fact]
    public async Task AcceptingACancelledPlacement_Is409_AndHoldsNoBed()
    {
        await using var b = await StartAsync();
        var home = await b.AddHomeAsync(Cqc(1));
        var id = Id(await b.RequestAsync());
        Status(await Http.JsonAsync(await b.CancelAsync(id, caller: b.Coordinator))).ShouldBe("cancelled");

        var accept = await b.AcceptAsync(id, home);

        accept.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await Http.ProblemAsync(accept)).GetProperty("detail").GetString()!.ShouldContain("cancelled");
        (await b.HeldAsync(home)).ShouldBe(0);
        var placement = await b.GetPlacementAsync(id);
        OfferStatus(placement, home).ShouldBe("withdrawn");
        (await b.HistoryAsync(id)).EnumerateArray().Last().GetProperty("by").GetString().ShouldBe(CoordinatorName);
    }

    [Fact]
    public async Task HomesWithStaleVacancyData_RankAfterFreshOnes()
    {
        await using var b = await StartAsync();
        var stale = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding", vacanciesAge: TimeSpan.FromHours(25));
        string[] fresh = [await b.AddHomeAsync(Cqc(2), cqcRating: "requiresImprovement"), await b.AddHomeAsync(Cqc(3), cqcRating: "requiresImprovement"), await b.AddHomeAsync(Cqc(4), cqcRating: "requiresImprovement")];

        var placement = await b.RequestAsync();

        (await b.GetHomeAsync(stale)).GetProperty("vacanciesStale").GetBoolean().ShouldBeTrue();
        (await b.GetHomeAsync(fresh[0])).GetProperty("vacanciesStale").GetBoolean().ShouldBeFalse();
        OfferedHomes(placement, round: 1).ShouldBe(fresh);
    }

    [Fact]
    public async Task ARepeatedRequest_WithTheSameIdempotencyKey_CreatesOnePlacement()
    {
        await using var b = await StartAsync();
        await b.AddHomeAsync(Cqc(1));
        var body = b.RequestBody();

        async Task<HttpResponseMessage> Send(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "referral-TEST-0001");
            return await b.Team.SendAsync(request);
        }

        var first = await Send("/api/placements");
        var again = await Send("/api/placements");
        var otherSpellings = new[] { await Send("/api/Placements"), await Send("/api/placements/"), await Send("/API/PLACEMENTS") }; // the same route

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.Headers.Location.ShouldBe(first.Headers.Location);
        otherSpellings.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created && r.Headers.Location == first.Headers.Location);
        (await Http.JsonAsync(await b.Coordinator.GetAsync("/api/placements"))).GetArrayLength().ShouldBe(1);
    }
}
