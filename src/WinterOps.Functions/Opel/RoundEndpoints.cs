using Microsoft.Azure.Functions.Worker;
using System.Globalization;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Opel;

public sealed record RoundPartnerView(string OdsCode, int? EffectiveLevel, bool Missing);

/// <summary>A day's round: who is expected, who has reported, and the latest assessment (null before the deadline).</summary>
public sealed record RoundView(
    DateOnly Date, RoundPhase Status, int Expected, int Received, IReadOnlyList<string> Missing, IReadOnlyList<RoundPartnerView> Partners,
    int? SystemLevel, decimal? SystemScore, IReadOnlyList<PillarLevel> Pillars, DateTimeOffset? AssessedAt, DateTimeOffset? DeadlineAt);

/// <summary>The system status of a day: the round's assessment and (for executives and coordinators) the escalations still open that day.</summary>
public sealed record SystemStatusView(RoundView Round, IReadOnlyList<OpenEscalation> OpenEscalations);

public sealed record OpenEscalation(string EscalationId, EscalationRule Rule, EscalationStatus Status, string Summary);

/// <summary>One day of the daily series: the system level and each partner's level.</summary>
public sealed record HistoryDay(DateOnly Date, int? SystemLevel, decimal? SystemScore, IReadOnlyList<RoundPartnerView> Partners);

public static class RoundEndpoints
{
    /// <summary>A day's OPEL round: expected, received, missing, partner levels and the system level once assessed.</summary>
    [Function("GetRound")]
    public static Task GetRound([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/returns/{date}")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetRoundAsync);

    /// <summary>The system (ICS) OPEL level, pillar and partner levels, and open escalations, for a date (today by default).</summary>
    [Function("GetSystemStatus")]
    public static Task GetSystemStatus([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/system/status")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetStatusAsync);

    /// <summary>The daily series of system and partner levels from 'from' to 'to' (at most 92 days; default the last 14).</summary>
    [Function("GetSystemHistory")]
    public static Task GetSystemHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/system/history")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetHistoryAsync);


    private static async Task<IResult> GetRoundAsync(string date, RoundStore rounds, RoundReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(await LoadAsync(ParseDate(date), rounds, reader, cancellationToken));

    private static async Task<IResult> GetStatusAsync(
        string? date, HttpContext http, RoundStore rounds, EscalationStore escalations, RoundReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var day = date is null ? London.Today(time.GetUtcNow()) : ParseDate(date);
        var open = new List<OpenEscalation>();
        var caller = http.Caller();
        if (caller.IsIn(Roles.Executive) || caller.IsIn(Roles.Coordinator))
        {
            await foreach (var e in escalations.LoadAllAsync(day, cancellationToken))
            {
                if (e.State.Status is EscalationStatus.Alerted or EscalationStatus.Acknowledged)
                {
                    open.Add(new OpenEscalation(e.Id, e.State.Raised!.Rule, e.State.Status, e.State.Raised.Summary));
                }
            }
        }

        return TypedResults.Ok(new SystemStatusView(await LoadAsync(day, rounds, reader, cancellationToken), open));
    }

    private static async Task<IResult> GetHistoryAsync(string? from, string? to, RoundStore rounds, TimeProvider time, CancellationToken cancellationToken)
    {
        var last = to is null ? London.Today(time.GetUtcNow()) : ParseDate(to, "to");
        var first = from is null ? last.AddDays(-13) : ParseDate(from, "from");
        new Validation()
            .Require(first <= last, "from", "'from' must not be after 'to'.")
            .Require(last.DayNumber - first.DayNumber < 92, "to", "Ask for at most 92 days.")
            .ThrowIfAny();
        var days = new List<HistoryDay>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            if (await rounds.LoadAsync(day, cancellationToken) is { Assessments: > 0 } round)
            {
                var partners = await rounds.ReadPartnersAsync(day, cancellationToken);
                days.Add(new HistoryDay(day, round.SystemLevel, round.SystemScore, partners.Select(p => new RoundPartnerView(p.OdsCode, p.EffectiveLevel, p.Missing)).ToList()));
            }
        }

        return TypedResults.Ok(days);
    }

    /// <summary>The round as assessed; before its assessment, the returns as they stand (read from their rows).</summary>
    public static async Task<RoundView> LoadAsync(DateOnly date, RoundStore rounds, RoundReader reader, CancellationToken cancellationToken)
    {
        var s = await rounds.LoadAsync(date, cancellationToken);
        var partners = s is { Assessments: > 0 }
            ? (await rounds.ReadPartnersAsync(date, cancellationToken)).Select(p => new RoundPartnerView(p.OdsCode, p.EffectiveLevel, p.Missing)).ToList()
            : (await reader.ReadAsync(date, cancellationToken)).Inputs.Partners.Select(p => new RoundPartnerView(p.OdsCode, p.Missing ? null : p.Level, p.Missing)).ToList();
        var missing = partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList();
        var phase = s?.Phase ?? RoundPhase.NotOpen;
        return new RoundView(
            date, phase, phase == RoundPhase.NotOpen ? partners.Count : s!.Expected, partners.Count - missing.Count, missing, partners,
            s?.SystemLevel, s?.SystemScore, s?.Pillars ?? [], s?.AssessedAt, s?.Schedule?.DeadlineAt);
    }

    /// <summary>Rounds are read with their neighbours (the day before, a range of days): dates stay well inside what DateOnly can hold.</summary>
    private static readonly DateOnly Earliest = new(2000, 1, 1);
    private static readonly DateOnly Latest = new(2099, 12, 31);

    private static DateOnly ParseDate(string date, string field = "date") =>
        DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day >= Earliest && day <= Latest
            ? day
            : throw new ValidationFailedException(new Dictionary<string, string[]> { [field] = ["Give a date from 2000-01-01 to 2099-12-31 as yyyy-MM-dd."] });
}
