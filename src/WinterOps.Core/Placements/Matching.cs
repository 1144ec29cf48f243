using WinterOps.Core.CareHomes;

namespace WinterOps.Core.Placements;

/// <summary>What matching needs to know about one home right now.</summary>
public sealed record HomeSnapshot(CareHomeState.Registered Home, int OpenOffers);

/// <summary>
/// Which homes can take a placement, best first. Eligible: provides the bed type, has a free bed of
/// that type, and no clinical exclusion clashes with the patient's needs. Ranked: fresh vacancy data
/// before stale (stale homes rank last, not excluded), then preferred locality order, then CQC rating,
/// then freshness, then fewest open offers.
/// </summary>
public static class Matching
{
    public static IReadOnlyList<Candidate> Rank(PlacementRequest request, IEnumerable<HomeSnapshot> homes, DateTimeOffset now, TimeSpan freshness) =>
        homes
            .Where(h => h.Home.Details.BedTypes.Contains(request.BedType)
                        && h.Home.Free(request.BedType) > 0
                        && !h.Home.Details.ClinicalExclusions.Intersect(request.ClinicalFlags).Any())
            .OrderBy(h => IsStale(h.Home, now, freshness))
            .ThenBy(h => LocalityRank(request.PreferredLocalities, h.Home.Details.Locality))
            .ThenBy(h => h.Home.Details.CqcRating)
            .ThenByDescending(h => h.Home.VacanciesAsOf)
            .ThenBy(h => h.OpenOffers)
            .ThenBy(h => h.Home.CqcLocationId, StringComparer.Ordinal)
            .Select(h => new Candidate(h.Home.CqcLocationId, h.Home.Details.Locality))
            .ToList();

    public static bool IsStale(CareHomeState.Registered home, DateTimeOffset now, TimeSpan freshness) =>
        home.VacanciesAsOf is not { } asOf || now - asOf > freshness;

    private static int LocalityRank(IReadOnlyList<string> preferred, string locality)
    {
        for (var i = 0; i < preferred.Count; i++)
        {
            if (string.Equals(preferred[i], locality, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return preferred.Count;
    }
}

/// <summary>NHS numbers: 10 digits, the last a Modulus 11 check digit over the first nine.</summary>
public static class NhsNumber
{
    public static bool IsValid(string value)
    {
        if (value.Length != 10 || !value.All(char.IsAsciiDigit))
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (value[i] - '0') * (10 - i);
        }

        var check = 11 - (sum % 11);
        return check switch
        {
            11 => value[9] == '0',
            10 => false,
            _ => value[9] - '0' == check,
        };
    }
}
