using WinterOps.Core.Placements;

namespace WinterOps.Functions.Placements;

/// <summary>Placement brokerage settings (section <c>Placements</c>), with the defaults of DOMAIN.md.</summary>
public sealed class PlacementOptions
{
    public int OffersPerRound { get; set; } = 3;

    public TimeSpan ResponseWindow { get; set; } = TimeSpan.FromHours(4);

    public int MaxRounds { get; set; } = 3;

    /// <summary>Vacancy figures older than this rank last in matching (they are not excluded).</summary>
    public TimeSpan VacancyFreshness { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a request, accept, decline, cancel or admission waits for the orchestration's decision before answering 202.</summary>
    public TimeSpan DecisionWait { get; set; } = TimeSpan.FromSeconds(10);

    public OfferPolicy Policy => new(OffersPerRound, ResponseWindow, MaxRounds);

    public void Validate()
    {
        if (OffersPerRound is < 1 or > 20 || MaxRounds is < 1 or > 10 || ResponseWindow <= TimeSpan.Zero || VacancyFreshness <= TimeSpan.Zero
            || DecisionWait < TimeSpan.Zero || DecisionWait > TimeSpan.FromSeconds(60))
        {
            throw new InvalidOperationException("Placements settings out of range: OffersPerRound 1-20, MaxRounds 1-10, ResponseWindow and VacancyFreshness above zero, DecisionWait 0 to 60 seconds.");
        }
    }
}

public static class PlacementSettings
{
    public static TimeSpan Freshness(HttpContext http) => http.RequestServices.GetRequiredService<PlacementOptions>().VacancyFreshness;
}
