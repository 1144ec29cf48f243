using WinterOps.Core.Partners;

namespace WinterOps.Core.Opel;

/// <summary>Whether a parameter's pressure rises with its value (handover minutes) or falls (4-hour performance).</summary>
public enum Direction
{
    HigherIsWorse,
    LowerIsWorse,
}

/// <summary>
/// One scored parameter of a sector's OPEL table. Thresholds are inclusive starts of each level:
/// higher-is-worse "L2 from 15" means 15 or more is at least level 2; lower-is-worse "L2 from 78"
/// means below 78 is at least level 2. Values outside [Min, Max] are refused as implausible.
/// </summary>
public sealed record Parameter(
    string Key, string Name, string Unit, Direction WorseWhen, decimal Min, decimal Max, decimal Level2, decimal Level3, decimal Level4, decimal Weight)
{
    public int LevelOf(decimal value) => WorseWhen switch
    {
        Direction.HigherIsWorse => value >= Level4 ? 4 : value >= Level3 ? 3 : value >= Level2 ? 2 : 1,
        _ => value < Level4 ? 4 : value < Level3 ? 3 : value < Level2 ? 2 : 1,
    };
}

/// <summary>Score bands as multiples of the total weight W: score &lt;= 1.5W is OPEL 1, &lt;= 2.5W OPEL 2, &lt;= 3.5W OPEL 3, else 4.</summary>
public sealed record Bands(decimal Opel1UpTo, decimal Opel2UpTo, decimal Opel3UpTo)
{
    public static Bands Default { get; } = new(1.5m, 2.5m, 3.5m);

    /// <summary>Bands a weighted sum of levels over <paramref name="weight"/>, compared exactly (no division).</summary>
    public int LevelOf(decimal weightedSum, decimal weight) =>
        weightedSum <= Opel1UpTo * weight ? 1 : weightedSum <= Opel2UpTo * weight ? 2 : weightedSum <= Opel3UpTo * weight ? 3 : 4;
}

/// <summary>A sector's parameter table, versioned; <see cref="Illustrative"/> until an ICS replaces it with its own.</summary>
public sealed record Framework(Sector Sector, string Version, bool Illustrative, string Source, IReadOnlyList<Parameter> Parameters, Bands Bands)
{
    public decimal TotalWeight => Parameters.Sum(p => p.Weight);

    public Parameter? Find(string key) => Parameters.FirstOrDefault(p => p.Key == key);
}

/// <summary>One parameter's part in a score.</summary>
public sealed record ParameterScore(string Parameter, decimal Value, int Level, decimal Weight);

/// <summary>
/// A computed return: <see cref="Level"/> is null when less than half the total weight was reported.
/// <see cref="Score"/> is renormalised to the full weight, so scores with missing parameters compare.
/// </summary>
public sealed record Assessment(int? Level, decimal? Score, decimal WeightReported, decimal TotalWeight, IReadOnlyList<ParameterScore> Breakdown);

public static class Scoring
{
    /// <summary>
    /// Scores reported metrics with a sector's table: weighted sum of parameter levels over the
    /// parameters present, renormalised to the total weight, banded; no level below half the weight.
    /// Metrics must already be validated against the table (known keys, values in range).
    /// </summary>
    public static Assessment Score(Framework framework, IReadOnlyDictionary<string, decimal> metrics)
    {
        var breakdown = framework.Parameters
            .Where(p => metrics.ContainsKey(p.Key))
            .Select(p => new ParameterScore(p.Key, metrics[p.Key], p.LevelOf(metrics[p.Key]), p.Weight))
            .ToList();
        var total = framework.TotalWeight;
        var reported = breakdown.Sum(b => b.Weight);
        if (reported == 0 || reported * 2 < total)
        {
            return new Assessment(null, null, reported, total, breakdown);
        }

        var sum = breakdown.Sum(b => b.Weight * b.Level);
        return new Assessment(framework.Bands.LevelOf(sum, reported), decimal.Round(sum * total / reported, 2), reported, total, breakdown);
    }

    /// <summary>
    /// The system (ICS) level: per sector pillar the size-weighted mean of partner levels, then the
    /// weighted mean of the pillars present (weights renormalised), banded by rounding half up.
    /// </summary>
    public static SystemAssessment System(IEnumerable<PartnerLevel> partners, IReadOnlyDictionary<Sector, decimal> pillarWeights)
    {
        var pillars = partners
            .Where(p => pillarWeights.GetValueOrDefault(p.Sector) > 0 && p.SizeWeight > 0)
            .GroupBy(p => p.Sector)
            .Select(g => new PillarLevel(g.Key, g.Sum(p => p.SizeWeight * p.Level) / g.Sum(p => p.SizeWeight), pillarWeights[g.Key]))
            .OrderBy(p => p.Sector)
            .ToList();
        if (pillars.Count == 0)
        {
            return new SystemAssessment(null, null, pillars);
        }

        // Banded from the exact score; pillar and system scores are rounded for people only.
        var score = pillars.Sum(p => p.Score * p.Weight) / pillars.Sum(p => p.Weight);
        return new SystemAssessment((int)Math.Floor(score + 0.5m), decimal.Round(score, 2), pillars.Select(p => p with { Score = decimal.Round(p.Score, 2) }).ToList());
    }

    /// <summary>The default pillar weights of DOMAIN.md: acute 0.4, community 0.2, mental health 0.2, NHS 111 0.1, ambulance 0.1.</summary>
    public static IReadOnlyDictionary<Sector, decimal> DefaultPillarWeights { get; } = new Dictionary<Sector, decimal>
    {
        [Sector.Acute] = 0.4m,
        [Sector.Community] = 0.2m,
        [Sector.MentalHealth] = 0.2m,
        [Sector.Nhs111] = 0.1m,
        [Sector.Ambulance] = 0.1m,
    };
}

/// <summary>A partner's effective level as input to the system level.</summary>
public sealed record PartnerLevel(string OdsCode, Sector Sector, decimal SizeWeight, int Level);

public sealed record PillarLevel(Sector Sector, decimal Score, decimal Weight);

public sealed record SystemAssessment(int? Level, decimal? Score, IReadOnlyList<PillarLevel> Pillars);
