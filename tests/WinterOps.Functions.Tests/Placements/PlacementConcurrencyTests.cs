using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>The first valid acceptance wins, under real concurrency over HTTP on one Azurite.</summary>
public class PlacementConcurrencyTests
{
    [Fact]
    public async Task TwentyFourConcurrentAcceptances_FromThreeHomes_BookExactlyOne_AndOnlyTheWinnerHoldsABed()
    {
        await using var b = await StartAsync();
        string[] homes = [await b.AddHomeAsync(Cqc(1)), await b.AddHomeAsync(Cqc(2)), await b.AddHomeAsync(Cqc(3))];
        var placement = await b.RequestAsync();
        var id = Id(placement);
        OfferedHomes(placement).ShouldBe(homes);
        var brokers = new[] { await b.BrokerAsync(homes[0]), await b.BrokerAsync(homes[1]), await b.BrokerAsync(homes[2]) };

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => b.AcceptAsync(id, homes[i % 3], caller: brokers[i % 3])));

        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        statuses.Count(s => s == 200).ShouldBe(1, string.Join(", ", statuses));
        statuses.Count(s => s == 409).ShouldBe(23, string.Join(", ", statuses));
        foreach (var refused in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            await Http.ProblemAsync(refused);
        }

        var winner = Array.FindIndex(responses, r => r.StatusCode == HttpStatusCode.OK);
        var winningHome = homes[winner % 3];
        (await responses[winner].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(winningHome);
        var after = await b.GetPlacementAsync(id);
        Status(after).ShouldBe("booked");
        after.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(winningHome);
        OfferStatus(after, winningHome).ShouldBe("accepted");
        var history = (await b.HistoryAsync(id)).EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        history.Count(t => t == "PlacementBooked").ShouldBe(1);

        // The orchestration took the acceptances one at a time: only the winner ever held a bed.
        foreach (var home in homes)
        {
            (await b.HeldAsync(home)).ShouldBe(home == winningHome ? 1 : 0, home);
        }
    }

    [Fact]
    public async Task TwoPlacementsRacingForTheLastBed_OneIsBooked_TheOtherIsRefusedAndKeepsItsOfferOpen()
    {
        await using var b = await StartAsync();
        var home = await b.AddHomeAsync(Cqc(1), maxCapacity: 10, occupied: 9, vacantAccepting: 1);
        var first = Id(await b.RequestAsync());
        var second = Id(await b.RequestAsync());
        OfferStatus(await b.GetPlacementAsync(first), home).ShouldBe("open");
        OfferStatus(await b.GetPlacementAsync(second), home).ShouldBe("open");
        var broker = await b.BrokerAsync(home);

        var responses = await Task.WhenAll(b.AcceptAsync(first, home, caller: broker), b.AcceptAsync(second, home, caller: broker));

        responses.Select(r => r.StatusCode).Order().ShouldBe([HttpStatusCode.OK, HttpStatusCode.Conflict]);
        var won = responses[0].StatusCode == HttpStatusCode.OK ? first : second;
        var lost = won == first ? second : first;
        var problem = await Http.ProblemAsync(responses.Single(r => r.StatusCode == HttpStatusCode.Conflict));
        problem.GetProperty("detail").GetString()!.ShouldContain("no free", Case.Insensitive);
        var booked = await b.GetPlacementAsync(won);
        Status(booked).ShouldBe("booked");
        booked.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(home);
        var refused = await b.GetPlacementAsync(lost);
        Status(refused).ShouldBe("awaitingResponses");
        OfferStatus(refused, home).ShouldBe("open");
        refused.GetProperty("booking").ValueKind.ShouldBe(JsonValueKind.Null);
        var beds = await b.NursingBedsAsync(home);
        beds.GetProperty("heldByWinterOps").GetInt32().ShouldBe(1);
        beds.GetProperty("free").GetInt32().ShouldBe(0);
    }
}
