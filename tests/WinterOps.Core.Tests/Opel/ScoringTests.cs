using CsCheck;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;

namespace WinterOps.Core.Tests.Opel;

public class ScoringTests
{
    private static readonly Framework Acute = FrameworkSet.Default.For(Sector.Acute)!;

    /// <summary>Every acute threshold: (parameter, value, expected level) at, just below and just above each boundary.</summary>
    public static TheoryData<string, decimal, int> AcuteBoundaries()
    {
        var data = new TheoryData<string, decimal, int>();
        foreach (var p in Acute.Parameters)
        {
            var step = 0.01m;
            var thresholds = new[] { (p.Level2, 2), (p.Level3, 3), (p.Level4, 4) };
            foreach (var (threshold, level) in thresholds)
            {
                if (p.WorseWhen == Direction.HigherIsWorse)
                {
                    data.Add(p.Key, threshold, level);               // "L2 from 15": 15 is level 2
                    data.Add(p.Key, threshold - step, level - 1);    // just below: the level under it
                    data.Add(p.Key, threshold + step, level);        // just above: still this level (until the next threshold)
                }
                else
                {
                    data.Add(p.Key, threshold, level - 1);           // "below 78": 78 itself is not yet level 2
                    data.Add(p.Key, threshold - step, level);        // just below: this level
                    data.Add(p.Key, threshold + step, level - 1);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AcuteBoundaries))]
    public void AcuteThreshold_IsInclusiveInItsDirection(string key, decimal value, int expected) =>
        Acute.Find(key)!.LevelOf(value).ShouldBe(expected);

    [Fact]
    public void AcuteTable_IsTheIllustrativeNineParameterTableOfDomainMd()
    {
        Acute.Parameters.Count.ShouldBe(9);
        Acute.TotalWeight.ShouldBe(11);
        Acute.Illustrative.ShouldBeTrue();
        Acute.Find("meanAmbulanceHandoverMinutes")!.ShouldSatisfyAllConditions(
            p => p.Weight.ShouldBe(2), p => p.Level2.ShouldBe(15), p => p.Level3.ShouldBe(30), p => p.Level4.ShouldBe(60));
        Acute.Find("edFourHourPerformancePct")!.WorseWhen.ShouldBe(Direction.LowerIsWorse);
    }

    [Fact]
    public void AllParametersCalm_IsOpel1_WithScoreEqualToTotalWeight()
    {
        var score = Scoring.Score(Acute, Calm());

        score.Level.ShouldBe(1);
        score.Score.ShouldBe(11m);
        score.Breakdown.Count.ShouldBe(9);
        score.Breakdown.ShouldAllBe(b => b.Level == 1);
    }

    [Fact]
    public void Bands_AreInclusiveAtOneAndAHalfTwoAndAHalfAndThreeAndAHalfTimesTheWeight()
    {
        // Weight 11: 1.5W = 16.5. Handover at level 4 (weight 2) adds 6 to 11 = 17 > 16.5 -> OPEL 2.
        var metrics = Calm();
        metrics["meanAmbulanceHandoverMinutes"] = 60;
        Scoring.Score(Acute, metrics).Level.ShouldBe(2);

        // Exactly 16.5 is unreachable with integer levels on weight 11, so check the band function itself.
        Bands.Default.LevelOf(16.5m, 11).ShouldBe(1);
        Bands.Default.LevelOf(16.51m, 11).ShouldBe(2);
        Bands.Default.LevelOf(27.5m, 11).ShouldBe(2);
        Bands.Default.LevelOf(27.51m, 11).ShouldBe(3);
        Bands.Default.LevelOf(38.5m, 11).ShouldBe(3);
        Bands.Default.LevelOf(38.51m, 11).ShouldBe(4);
    }

    [Fact]
    public void AllParametersAtLevel4_IsOpel4()
    {
        var metrics = Acute.Parameters.ToDictionary(p => p.Key, p => p.Level4 + (p.WorseWhen == Direction.HigherIsWorse ? 1 : -1));

        Scoring.Score(Acute, metrics).ShouldSatisfyAllConditions(s => s.Level.ShouldBe(4), s => s.Score.ShouldBe(44m));
    }

    [Fact]
    public void MissingParameters_AreExcluded_AndWeightsRenormalised()
    {
        // Four parameters (weight 6 of 11), all at level 3: mean level 3 -> OPEL 3, score renormalised to 3 x 11.
        var metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = 30, ["edOver12HoursPct"] = 5, ["edFourHourPerformancePct"] = 69, ["majorsResusOccupancyPct"] = 100,
        };

        var score = Scoring.Score(Acute, metrics);

        score.WeightReported.ShouldBe(6);
        score.Level.ShouldBe(3);
        score.Score.ShouldBe(33m);
    }

    [Fact]
    public void LessThanHalfTheWeight_GivesNoComputedLevel()
    {
        // Weight 5 of 11 is under half (5.5).
        var metrics = new Dictionary<string, decimal> { ["meanAmbulanceHandoverMinutes"] = 90, ["edOver12HoursPct"] = 12, ["escalationBedsPct"] = 9 };

        var score = Scoring.Score(Acute, metrics);

        score.Level.ShouldBeNull();
        score.Score.ShouldBeNull();
        score.Breakdown.Count.ShouldBe(3);
    }

    [Fact]
    public void ExactlyHalfTheWeight_IsEnough()
    {
        var framework = Acute with { Parameters = [.. Acute.Parameters.Take(2)] }; // weights 2 + 1 = 3
        var half = new Dictionary<string, decimal> { ["edFourHourPerformancePct"] = 50 }; // weight 1 of 3: under half
        Scoring.Score(framework, half).Level.ShouldBeNull();

        var evenFramework = Acute with { Parameters = [Acute.Parameters[1], Acute.Parameters[2]] }; // 1 + 1
        Scoring.Score(evenFramework, new Dictionary<string, decimal> { ["edFourHourPerformancePct"] = 50 }).Level.ShouldBe(4);
    }

    [Fact]
    public void SystemLevel_IsTheWeightedMeanOfSizeWeightedPillars_RoundedHalfUp()
    {
        var partners = new[]
        {
            new PartnerLevel("RA1", Sector.Acute, 600, 4),
            new PartnerLevel("RA2", Sector.Acute, 200, 2),   // acute pillar (600x4 + 200x2) / 800 = 3.5
            new PartnerLevel("RC1", Sector.Community, 100, 2),
            new PartnerLevel("RM1", Sector.MentalHealth, 100, 3),
            new PartnerLevel("LA1", Sector.SocialCare, 100, 4), // no pillar weight by default: not counted
        };

        var system = Scoring.System(partners, Scoring.DefaultPillarWeights);

        // (3.5 x 0.4 + 2 x 0.2 + 3 x 0.2) / 0.8 = 3.0 -> OPEL 3
        system.Score.ShouldBe(3.00m);
        system.Level.ShouldBe(3);
        system.Pillars.Select(p => p.Sector).ShouldBe([Sector.Acute, Sector.Community, Sector.MentalHealth]);
    }

    [Fact]
    public void SystemScore_OfTwoAndAHalf_RoundsUpToOpel3()
    {
        var system = Scoring.System(
            [new PartnerLevel("RA1", Sector.Acute, 1, 4), new PartnerLevel("RC1", Sector.Community, 1, 1)],
            new Dictionary<Sector, decimal> { [Sector.Acute] = 0.5m, [Sector.Community] = 0.5m });

        system.Score.ShouldBe(2.5m);
        system.Level.ShouldBe(3);
    }

    [Fact]
    public void Property_MakingAnyOneMetricWorse_NeverLowersTheLevel()
    {
        var gen =
            from values in Gen.Decimal[0m, 1m].Array[Acute.Parameters.Count]
            from index in Gen.Int[0, Acute.Parameters.Count - 1]
            from worsen in Gen.Decimal[0m, 1m]
            select (values, index, worsen);

        gen.Sample(t =>
        {
            var metrics = Acute.Parameters.Select((p, i) => (p.Key, Value: p.Min + ((p.Max - p.Min) * t.values[i]))).ToDictionary(x => x.Key, x => x.Value);
            var parameter = Acute.Parameters[t.index];
            var before = Scoring.Score(Acute, metrics).Level!.Value;
            var current = metrics[parameter.Key];
            metrics[parameter.Key] = parameter.WorseWhen == Direction.HigherIsWorse
                ? current + ((parameter.Max - current) * t.worsen)
                : current - ((current - parameter.Min) * t.worsen);
            return Scoring.Score(Acute, metrics).Level!.Value >= before;
        });
    }

    [Fact]
    public void Property_PermutingPartners_NeverChangesTheSystemLevel()
    {
        var sectors = new[] { Sector.Acute, Sector.Community, Sector.MentalHealth, Sector.Nhs111, Sector.Ambulance, Sector.SocialCare };
        var partner = from s in Gen.Int[0, sectors.Length - 1] from size in Gen.Int[1, 1000] from level in Gen.Int[1, 4]
                      select new PartnerLevel("X", sectors[s], size, level);
        var gen = from partners in partner.Array[1, 30] from seed in Gen.Int select (partners, seed);

        gen.Sample(t =>
        {
            var shuffled = t.partners.OrderBy(_ => new Random(t.seed).Next()).Reverse().ToArray();
            var a = Scoring.System(t.partners, Scoring.DefaultPillarWeights);
            var b = Scoring.System(shuffled, Scoring.DefaultPillarWeights);
            return a.Level == b.Level && a.Score == b.Score;
        });
    }

    [Fact]
    public void FrameworksFile_WithThresholdsOutOfOrder_IsRefusedNamingTheParameter()
    {
        var json = """
            {"version":"x","frameworks":[{"sector":"acute","illustrative":false,"parameters":[
              {"key":"beds","name":"Beds","unit":"%","worseWhen":"higherIsWorse","min":0,"max":100,"level2":95,"level3":90,"level4":98,"weight":1}]}]}
            """;

        Should.Throw<InvalidDataException>(() => FrameworkSet.Load(json)).Message.ShouldContain("'beds'");
    }

    [Fact]
    public void DefaultFrameworks_CoverTheSectorsOfDomainMd_AllIllustrative()
    {
        FrameworkSet.Default.Frameworks.Select(f => f.Sector).ShouldBe(
            [Sector.Acute, Sector.Community, Sector.MentalHealth, Sector.Ambulance, Sector.SocialCare], ignoreOrder: true);
        FrameworkSet.Default.Frameworks.ShouldAllBe(f => f.Illustrative);
        FrameworkSet.Default.For(Sector.Nhs111).ShouldBeNull(); // declares a level
        FrameworkSet.Default.For(Sector.MentalHealth)!.Find("freeSection136Suites")!.WorseWhen.ShouldBe(Direction.LowerIsWorse);
    }

    private static Dictionary<string, decimal> Calm() => new()
    {
        ["meanAmbulanceHandoverMinutes"] = 10,
        ["edFourHourPerformancePct"] = 85,
        ["edAttendanceVariationPct"] = 0,
        ["majorsResusOccupancyPct"] = 70,
        ["medianTimeToTreatmentMinutes"] = 45,
        ["edOver12HoursPct"] = 1,
        ["generalAcuteBedOccupancyPct"] = 88,
        ["escalationBedsPct"] = 0,
        ["noCriteriaToResidePct"] = 5,
    };
}
