using System.Net;
using System.Text.Json;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>Who sees what of a placement: the referring team and coordinators everything; an offered home only its own offer, never who the patient is.</summary>
public class PlacementAccessTests
{
    [Fact]
    public async Task Brokers_SeeOnlyTheirOwnOffer_WithoutPatientIdentifiers_AndOthersAreRefused()
    {
        await using var b = await StartAsync();
        var mine = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        var other = await b.AddHomeAsync(Cqc(2), cqcRating: "outstanding");
        await b.AddHomeAsync(Cqc(3), cqcRating: "outstanding");
        var notOffered = await b.AddHomeAsync(Cqc(4), cqcRating: "inadequate");
        var id = Id(await b.RequestAsync());
        var broker = await b.BrokerAsync(mine);
        using var otherTeam = await b.App.ClientAsAsync("DischargeTeam", "RZ2", "Other Team (test)");
        using var executive = await b.App.ClientAsAsync("Executive", "QZZ", "Exec (test)");

        var asBroker = await b.GetPlacementAsync(id, broker);

        asBroker.GetProperty("patientRef").ValueKind.ShouldBe(JsonValueKind.Null);
        asBroker.GetProperty("nhsNumber").ValueKind.ShouldBe(JsonValueKind.Null);
        OfferedHomes(asBroker).ShouldBe([mine]);
        var full = await b.GetPlacementAsync(id, b.Team);
        full.GetProperty("patientRef").GetString().ShouldStartWith("TEST-");
        full.GetProperty("nhsNumber").GetString()!.Length.ShouldBe(10);
        OfferedHomes(full).Length.ShouldBe(3);
        var brokerHistory = (await b.HistoryAsync(id, broker)).EnumerateArray().ToList();
        brokerHistory.Select(e => e.GetProperty("type").GetString()).ShouldBe(["OffersMade"]);
        brokerHistory[0].GetProperty("data").GetProperty("offers").EnumerateArray().Select(o => o.GetProperty("cqcLocationId").GetString()).ShouldBe([mine]);

        await ShouldBeForbidden(await (await b.BrokerAsync(notOffered)).GetAsync($"/api/placements/{id}"));
        await ShouldBeForbidden(await (await b.BrokerAsync(notOffered)).GetAsync($"/api/placements/{id}/history"));
        await ShouldBeForbidden(await broker.GetAsync($"/api/care-homes/{other}/offers"));
        await ShouldBeForbidden(await broker.GetAsync($"/api/care-homes/{other}/offers?status=open"));
        await ShouldBeForbidden(await broker.GetAsync("/api/placements"));
        await ShouldBeForbidden(await otherTeam.GetAsync($"/api/placements/{id}"));
        await ShouldBeForbidden(await otherTeam.GetAsync($"/api/placements/{id}/history"));
        await ShouldBeForbidden(await otherTeam.GetAsync($"/api/placements?referringOrg={ReferringOrg}"));
        await ShouldBeForbidden(await executive.GetAsync($"/api/placements/{id}"));
        (await Http.JsonAsync(await otherTeam.GetAsync("/api/placements"))).GetArrayLength().ShouldBe(0);
        (await Http.JsonAsync(await b.Team.GetAsync("/api/placements"))).EnumerateArray().Select(Id).ShouldBe([id]);
    }

    [Fact]
    public async Task AfterBooking_TheWithdrawnHomeSeesItsWithdrawal_ButNotWhichHomeWon()
    {
        await using var b = await StartAsync();
        var winner = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        var loser = await b.AddHomeAsync(Cqc(2), cqcRating: "outstanding");
        var id = Id(await b.RequestAsync());
        (await b.AcceptAsync(id, winner)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var asLoser = await b.GetPlacementAsync(id, await b.BrokerAsync(loser));

        Status(asLoser).ShouldBe("booked");
        asLoser.GetProperty("booking").ValueKind.ShouldBe(JsonValueKind.Null);
        OfferedHomes(asLoser).ShouldBe([loser]);
        OfferStatus(asLoser, loser).ShouldBe("withdrawn");
        var history = (await b.HistoryAsync(id, await b.BrokerAsync(loser))).EnumerateArray().ToList();
        history.Select(e => e.GetProperty("type").GetString()).ShouldBe(["OffersMade", "OffersWithdrawn"]);
        history.ShouldAllBe(e => !e.GetProperty("data").GetRawText().Contains(winner));
        await ShouldBeForbidden(await (await b.BrokerAsync(loser)).PostAsync($"/api/placements/{id}/admitted", Http.Json($"{{\"admittedOn\":\"{Iso(b.Today)}\"}}")));
    }

    private static async Task ShouldBeForbidden(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}");
        await Http.ProblemAsync(response);
    }
}
