using Microsoft.Azure.Functions.Worker;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Partners;

namespace WinterOps.Functions.Opel;

/// <summary>The body of <c>PUT /api/returns/{date}/{odsCode}</c>: metrics by the sector's parameter names.</summary>
public sealed record ReturnBody(IReadOnlyDictionary<string, JsonElement>? Metrics, int? DeclaredLevel, string? Reason, string? Comment);

public sealed record ReturnResponse(
    DateOnly Date, string OdsCode, Sector Sector, int? ComputedLevel, int EffectiveLevel, decimal? Score, IReadOnlyList<ParameterScore> Breakdown,
    int Revision, bool Illustrative, IReadOnlyList<ReturnRevision>? Revisions);

public static partial class ReturnEndpoints
{
    /// <summary>How far back a return may be submitted or revised (days).</summary>
    public const int AmendmentWindowDays = 14;

    /// <summary>Submit or revise a partner's daily OPEL return (the partner's own users). The answer shows the score per parameter.</summary>
    [Function("PutReturn")]
    public static Task PutReturn([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "api/returns/{date}/{odsCode}")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Partner), PutAsync, client);

    /// <summary>A partner's return for a date, with every revision (the partner, Executives, Coordinators).</summary>
    [Function("GetReturn")]
    public static Task GetReturn([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/returns/{date}/{odsCode}")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Partner, Roles.Executive, Roles.Coordinator), GetAsync);


    private static async Task<IResult> PutAsync(
        string date, string odsCode, ReturnBody body, HttpContext http, PartnerStore partners, ReturnStore returns, FrameworkSet frameworks, RoundOptions round,
        EscalationOptions escalations, Escalations raise, RoundStore rounds, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var now = time.GetUtcNow();
        var day = ValidDate(date, London.Today(now));
        if (!caller.ActsFor(odsCode))
        {
            return TypedResults.Problem(statusCode: 403, title: "Not your organisation.", detail: $"You submit returns for your own organisation, not {odsCode}.");
        }

        if (await partners.LoadAsync(odsCode, cancellationToken) is not { } partner)
        {
            return TypedResults.Problem(statusCode: 404, title: "No such partner.", detail: $"No partner organisation has ODS code '{odsCode}'.");
        }

        var framework = frameworks.For(partner.Details.Sector);
        var (metrics, assessment) = Validate(body, framework);
        var (latest, _) = await returns.SubmitAsync(
            new ReturnSubmission(
                day, odsCode, partner.Details.Sector, partner.Details.SizeWeight, metrics, assessment, body.DeclaredLevel, body.Reason?.Trim(), body.Comment?.Trim(),
                frameworks.Version, caller.Name, now),
            ETags.ExpectedVersion(http.Request), cancellationToken);
        await FollowUpAsync(http.DurableClient(), day, partner, latest, round, escalations, raise, rounds, now, caller.ToActor(), cancellationToken);
        http.Response.Headers.ETag = ETags.For(latest.Revision);
        return TypedResults.Ok(ToResponse(day, odsCode, partner.Details.Sector, latest, framework, revisions: null));
    }

    private static async Task<IResult> GetAsync(
        string date, string odsCode, HttpContext http, ReturnStore returns, FrameworkSet frameworks, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        if (caller.IsIn(Roles.Partner) && !caller.IsIn(Roles.Coordinator) && !caller.IsIn(Roles.Executive) && !caller.ActsFor(odsCode))
        {
            return TypedResults.Problem(statusCode: 403, title: "Not your organisation.", detail: "Partners see their own returns and the system summary.");
        }

        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) || !PartnerEndpoints.OdsCode().IsMatch(odsCode)
            || await returns.LoadAsync(day, odsCode, cancellationToken) is not { Latest: { } latest } state)
        {
            return NoReturn(date, odsCode);
        }

        http.Response.Headers.ETag = ETags.For(latest.Revision);
        return TypedResults.Ok(ToResponse(day, odsCode, state.Sector, latest, frameworks.For(state.Sector), state.Revisions));
    }

    /// <summary>
    /// Tells the others of the return in force, so a retried request that changed nothing still tells them: rule 2 raises
    /// the partner's escalation when it is at OPEL 4 (once per partner and day, however many revisions); from near the
    /// deadline until midnight the round hears of it and re-assesses.
    /// </summary>
    public static async Task FollowUpAsync(
        DurableTaskClient durable, DateOnly date, StoredPartner partner, ReturnRevision latest, RoundOptions round, EscalationOptions escalations, Escalations raise,
        RoundStore rounds, DateTimeOffset now, Actor by, CancellationToken cancellationToken)
    {
        if (escalations.InForce.Contains(EscalationRule.PartnerAtOpel4) && ReturnRules.AtOpel4(date, latest))
        {
            var ladder = RoundReader.Ladder(partner) is { Count: > 0 } own ? own : [escalations.Fallback];
            await raise.ApplyAsync(
                durable, RoundWorkflow.RaisePartnerAtOpel4(date, partner.OdsCode, ladder, escalations.AcknowledgeWithin, latest.At),
                $"return-{RoundWorkflow.Key(date)}-{partner.OdsCode}-{latest.Revision.ToString(CultureInfo.InvariantCulture)}", by, cancellationToken);
        }

        if (RoundWorkflow.Announces(RoundSchedule.For(date, round.ReminderAt, round.DeadlineAt), now)
            && await rounds.LoadAsync(date, cancellationToken) is { Phase: not RoundPhase.NotOpen })
        {
            await durable.RaiseEventAsync(RoundOrchestration.InstanceId(date), RoundOrchestration.ReturnArrivedEvent, partner.OdsCode, cancellationToken);
        }
    }

    private static DateOnly ValidDate(string date, DateOnly today)
    {
        var v = new Validation();
        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            v.Add("date", "Give the date as yyyy-MM-dd.").ThrowIfAny();
        }

        v.Require(day <= today.AddDays(1), "date", "A return cannot be for a date after tomorrow.")
            .Require(day >= today.AddDays(-AmendmentWindowDays), "date", $"Returns can be submitted or revised for the last {AmendmentWindowDays} days only.")
            .ThrowIfAny();
        return day;
    }

    /// <summary>Checks every metric against the sector's table (known name, a number, a plausible value) and scores them.</summary>
    private static (Dictionary<string, decimal> Metrics, Assessment Assessment) Validate(ReturnBody body, Framework? framework)
    {
        var v = new Validation()
            .Require(body.DeclaredLevel is null or (>= 1 and <= 4), "declaredLevel", "OPEL levels are 1 to 4.")
            .Require(body.Reason is null || body.Reason.Length <= 1000, "reason", "At most 1000 characters.")
            .Require(body.Comment is null || body.Comment.Length <= 2000, "comment", "At most 2000 characters.");
        var metrics = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (name, element) in body.Metrics ?? new Dictionary<string, JsonElement>())
        {
            var field = $"metrics.{name}";
            if (framework?.Find(name) is not { } parameter)
            {
                v.Add(field, framework is null
                    ? "This sector has no OPEL table: declare a level with declaredLevel and a reason instead."
                    : $"Unknown parameter. Use: {string.Join(", ", framework.Parameters.Select(p => p.Key))}.");
            }
            else if (element.ValueKind != JsonValueKind.Number || !element.TryGetDecimal(out var value))
            {
                v.Add(field, $"Give a number ({parameter.Unit}).");
            }
            else if (value < parameter.Min || value > parameter.Max)
            {
                v.Add(field, $"{value} {parameter.Unit} is outside the plausible range {parameter.Min} to {parameter.Max}.");
            }
            else
            {
                metrics[name] = value;
            }
        }

        v.ThrowIfAny();
        var assessment = framework is null ? new Assessment(null, null, 0, 0, []) : Scoring.Score(framework, metrics);
        v.Require(assessment.Level is not null || body.DeclaredLevel is not null, framework is null ? "declaredLevel" : "metrics",
                framework is null
                    ? "This sector has no OPEL table: declare a level (1 to 4) with a reason."
                    : $"Report parameters worth at least half the total weight ({framework.TotalWeight}), or declare a level with a reason.")
            .Require(body.DeclaredLevel is null || body.DeclaredLevel == assessment.Level || !string.IsNullOrWhiteSpace(body.Reason), "reason",
                "Say why the declared level differs from the computed one.")
            .ThrowIfAny();
        return (metrics, assessment);
    }

    private static ReturnResponse ToResponse(
        DateOnly date, string odsCode, Sector sector, ReturnRevision latest, Framework? framework, IReadOnlyList<ReturnRevision>? revisions) =>
        new(date, odsCode, sector, latest.ComputedLevel, latest.EffectiveLevel, latest.Score, latest.Breakdown, latest.Revision,
            framework?.Illustrative ?? false, revisions);

    private static ProblemHttpResult NoReturn(string date, string odsCode) =>
        TypedResults.Problem(statusCode: 404, title: "No such return.", detail: $"No return from '{odsCode}' for '{date}'.");
}
