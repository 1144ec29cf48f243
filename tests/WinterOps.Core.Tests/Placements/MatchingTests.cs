using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;

namespace WinterOps.Core.Tests.Placements;

/// <summary>Which homes can take a placement, and in what order they are offered it.</summary>
public sealed class MatchingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Freshness = TimeSpan.FromHours(24);

    private static PlacementRequest Request(BedType bedType = BedType.Nursing, IReadOnlyList<ClinicalNeed>? flags = null, IReadOnlyList<string>? localities = null) => new(
        "PSEUDOREF-MATCH-1", null, "RXH01", Pathway.P3, bedType, FundingRoute.LocalAuthority, localities ?? ["Brighton", "Hove", "Lewes"],
        new DateOnly(2026, 12, 5), null, flags ?? []);

    /// <summary>A registered home folded from its events, as matching reads it from the store.</summary>
    private static CareHomeState.Registered Home(
        string id,
        string locality = "Brighton",
        CqcRating rating = CqcRating.Good,
        DateTimeOffset? asOf = null,
        int vacant = 1,
        int held = 0,
        IReadOnlyList<BedType>? bedTypes = null,
        IReadOnlyList<ClinicalNeed>? exclusions = null)
    {
        var types = bedTypes ?? [BedType.Nursing];
        List<CareHomeEvent> events =
        [
            new CareHomeEvent.Registered(id, new CareHomeDetails($"Home {id}", locality, types, exclusions ?? [], rating, [])),
            new CareHomeEvent.VacanciesReported(asOf ?? Now.AddHours(-1), types.ToDictionary(t => t, _ => new BedCount(10, 10 - vacant, 0, vacant))),
        ];
        events.AddRange(Enumerable.Range(0, held).Select(i => new CareHomeEvent.BedReserved($"PL-HELD-{id}-{i}", types[0], Now.AddHours(-1))));
        return events.Aggregate((CareHomeState)new CareHomeState.None(), CareHomeRules.Evolve).ShouldBeOfType<CareHomeState.Registered>();
    }

    private static List<string> Rank(PlacementRequest request, params HomeSnapshot[] homes) =>
        Matching.Rank(request, homes, Now, Freshness).Select(c => c.CqcLocationId).ToList();

    private static HomeSnapshot Snap(CareHomeState.Registered home, int openOffers = 0) => new(home, openOffers);

    [Fact]
    public void Rank_ReturnsEachEligibleHomeWithItsLocality()
    {
        Matching.Rank(Request(), [Snap(Home("A", locality: "Hove"))], Now, Freshness)
            .ShouldBe([new Candidate("A", "Hove")]);
    }

    [Fact]
    public void Rank_ExcludesHomesWithoutTheBedType()
    {
        Rank(Request(BedType.NursingDementia),
                Snap(Home("A", bedTypes: [BedType.Nursing])),
                Snap(Home("B", bedTypes: [BedType.Nursing, BedType.NursingDementia])))
            .ShouldBe(["B"]);
    }

    [Fact]
    public void Rank_ExcludesHomesWithNoFreeBed()
    {
        Rank(Request(),
                Snap(Home("A", vacant: 0)),
                Snap(Home("B", vacant: 2, held: 2)),
                Snap(Home("C", vacant: 2, held: 1)))
            .ShouldBe(["C"]);
    }

    [Fact]
    public void Rank_ExcludesHomesWhoseClinicalExclusionsClashWithTheNeeds()
    {
        Rank(Request(flags: [ClinicalNeed.Oxygen, ClinicalNeed.Bariatric]),
                Snap(Home("A", exclusions: [ClinicalNeed.Bariatric])),
                Snap(Home("B", exclusions: [ClinicalNeed.Tracheostomy, ClinicalNeed.Dialysis])),
                Snap(Home("C", exclusions: [])))
            .ShouldBe(["B", "C"]);
    }

    [Fact]
    public void Rank_WithNoEligibleHome_IsEmpty()
    {
        Rank(Request(), Snap(Home("A", vacant: 0)), Snap(Home("B", bedTypes: [BedType.Residential]))).ShouldBeEmpty();
    }

    [Fact]
    public void Rank_PutsStaleHomesLastWhateverTheirLocalityOrRating()
    {
        var stale = Now - Freshness - TimeSpan.FromMinutes(1);
        Rank(Request(),
                Snap(Home("A", locality: "Brighton", rating: CqcRating.Outstanding, asOf: stale)),
                Snap(Home("B", locality: "Elsewhere", rating: CqcRating.Inadequate)))
            .ShouldBe(["B", "A"]);
    }

    [Fact]
    public void Rank_KeepsAHomeExactlyAtTheFreshnessLimitAsFresh()
    {
        Matching.IsStale(Home("A", asOf: Now - Freshness), Now, Freshness).ShouldBeFalse();
        Matching.IsStale(Home("A", asOf: Now - Freshness - TimeSpan.FromTicks(1)), Now, Freshness).ShouldBeTrue();
        Matching.IsStale(CareHomeRules.Evolve(new CareHomeState.None(), new CareHomeEvent.Registered("N", new CareHomeDetails("N", "Hove", [], [], CqcRating.Good, [])))
            .ShouldBeOfType<CareHomeState.Registered>(), Now, Freshness).ShouldBeTrue();
    }

    [Fact]
    public void Rank_OrdersFreshHomesByPreferredLocalityFirst()
    {
        Rank(Request(localities: ["Hove", "Brighton"]),
                Snap(Home("A", locality: "Elsewhere", rating: CqcRating.Outstanding)),
                Snap(Home("B", locality: "Brighton", rating: CqcRating.Outstanding)),
                Snap(Home("C", locality: "hove", rating: CqcRating.RequiresImprovement)))
            .ShouldBe(["C", "B", "A"]);
    }

    [Fact]
    public void Rank_WithinALocality_OrdersByCqcRating()
    {
        Rank(Request(),
                Snap(Home("A", rating: CqcRating.NotYetRated)),
                Snap(Home("B", rating: CqcRating.RequiresImprovement)),
                Snap(Home("C", rating: CqcRating.Outstanding)),
                Snap(Home("D", rating: CqcRating.Good)))
            .ShouldBe(["C", "D", "B", "A"]);
    }

    [Fact]
    public void Rank_WithinARating_OrdersByFreshness()
    {
        Rank(Request(),
                Snap(Home("A", asOf: Now.AddHours(-20))),
                Snap(Home("B", asOf: Now.AddMinutes(-5))),
                Snap(Home("C", asOf: Now.AddHours(-3))))
            .ShouldBe(["B", "C", "A"]);
    }

    [Fact]
    public void Rank_RatingOutranksFreshness()
    {
        Rank(Request(),
                Snap(Home("A", rating: CqcRating.Good, asOf: Now.AddMinutes(-1))),
                Snap(Home("B", rating: CqcRating.Outstanding, asOf: Now.AddHours(-20))))
            .ShouldBe(["B", "A"]);
    }

    [Fact]
    public void Rank_WithEqualFreshness_OrdersByFewestOpenOffers()
    {
        var asOf = Now.AddHours(-2);
        Rank(Request(),
                Snap(Home("A", asOf: asOf), openOffers: 4),
                Snap(Home("B", asOf: asOf), openOffers: 0),
                Snap(Home("C", asOf: asOf), openOffers: 1))
            .ShouldBe(["B", "C", "A"]);
    }

    [Fact]
    public void Rank_FreshnessOutranksOpenOffers()
    {
        Rank(Request(),
                Snap(Home("A", asOf: Now.AddHours(-2)), openOffers: 0),
                Snap(Home("B", asOf: Now.AddHours(-1)), openOffers: 5))
            .ShouldBe(["B", "A"]);
    }

    [Fact]
    public void Rank_IsTheSameWhateverOrderTheHomesArriveIn()
    {
        HomeSnapshot[] homes =
        [
            Snap(Home("A", locality: "Lewes")),
            Snap(Home("B", locality: "Brighton", rating: CqcRating.Good)),
            Snap(Home("C", locality: "Brighton", rating: CqcRating.Outstanding)),
            Snap(Home("D", locality: "Hove", asOf: Now.AddDays(-3))),
            Snap(Home("E", locality: "Hove")),
        ];

        Rank(Request(), homes).ShouldBe(["C", "B", "E", "A", "D"]);
        Rank(Request(), [.. homes.Reverse()]).ShouldBe(["C", "B", "E", "A", "D"]);
    }
}
