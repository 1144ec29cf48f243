using System.Globalization;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Opel;

public sealed record RoundPartnerView(string OdsCode, int? EffectiveLevel, bool Missing);

/// <summary>A day's round: who is expected, who has reported, and the latest assessment (null before the deadline).</summary>
public sealed record RoundView(
    DateOnly Date, RoundPhase Status, int Expected, int Received, IReadOnlyList<string> Missing, IReadOnlyList<RoundPartnerView> Partners,
    int? SystemLevel, decimal? SystemScore, IReadOnlyList<PillarLevel> Pillars, DateTimeOffset? AssessedAt, DateTimeOffset? DeadlineAt);

public static class RoundEndpoints
{
    public static void MapRoundEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/returns/{date}", GetRoundAsync)
            .WithName("GetRound")
            .WithTags("OPEL")
            .WithSummary("A day's OPEL round: expected, received, missing, partner levels and the system level once assessed.")
            .RequireAuthorization();

        app.MapGet("/api/system/status", GetStatusAsync)
            .WithName("GetSystemStatus")
            .WithTags("OPEL")
            .WithSummary("The system (ICS) OPEL level, pillar and partner levels for a date (today by default).")
            .RequireAuthorization();
    }

    private static async Task<IResult> GetRoundAsync(string date, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok(await LoadAsync(ParseDate(date), handler, cancellationToken));

    private static async Task<IResult> GetStatusAsync(string? date, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok(await LoadAsync(date is null ? London.Today(time.GetUtcNow()) : ParseDate(date), handler, cancellationToken));

    private static async Task<RoundView> LoadAsync(DateOnly date, CommandHandler handler, CancellationToken cancellationToken)
    {
        var (s, _) = await handler.LoadAsync(RoundWorkflow.Definition, RoundWorkflow.Definition.StreamId(RoundWorkflow.Key(date)), cancellationToken);
        var partners = s.Assessment?.Partners.Select(p => new RoundPartnerView(p.OdsCode, p.EffectiveLevel, p.Missing)).ToList()
            ?? s.Expected.Select(e => new RoundPartnerView(e.OdsCode, s.Returns.TryGetValue(e.OdsCode, out var r) ? r.EffectiveLevel : null, !s.Returns.ContainsKey(e.OdsCode))).ToList();
        return new RoundView(
            date, s.Phase, s.Expected.Count, s.Returns.Count, s.Missing, partners, s.Assessment?.SystemLevel, s.Assessment?.SystemScore,
            s.Assessment?.Pillars ?? [], s.Assessment?.At, s.Schedule?.DeadlineAt);
    }

    private static DateOnly ParseDate(string date) =>
        DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new ValidationFailedException(new Dictionary<string, string[]> { ["date"] = ["Give the date as yyyy-MM-dd."] });
}
