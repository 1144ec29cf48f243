using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Partners;

namespace WinterOps.Functions.Demo;

/// <summary>
/// Development only: a simulated morning, so a new user sees a round and a system level within a
/// minute. Opens today's round, has every demo partner but one report (one acute trust at OPEL 4),
/// and has the round's orchestration assess at once, through the same code as the API and the timers.
/// </summary>
public static class DemoMorning
{
    /// <summary>The partner that "forgets" its return, and the trust under the most pressure.</summary>
    public const string Missing = "LZ4";
    public const string UnderPressure = "RZ2";

    /// <summary>Development only: open today's round, submit the demo partners' returns (one at OPEL 4, one missing) and assess it.</summary>
    [Function("SimulateMorning")]
    public static Task SimulateMorning([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/dev/simulate-morning")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator).InDevelopmentOnly(), SimulateAsync, client);

    private static async Task<IResult> SimulateAsync(
        HttpContext http, RoundOpener opener, RoundStore rounds, RoundReader reader, PartnerStore partners, ReturnStore returns, FrameworkSet frameworks,
        RoundOptions options, EscalationOptions escalations, Escalations raise, TimeProvider time, CancellationToken cancellationToken)
    {
        var durable = http.DurableClient();
        var today = (await opener.OpenTodayAsync(durable, force: true, cancellationToken))!.Value;
        var now = time.GetUtcNow();
        var actor = Actor.System("demo-morning");
        var changed = false;
        await foreach (var partner in partners.LoadAllAsync(cancellationToken))
        {
            if (!partner.Details.ExpectedDaily || partner.OdsCode == Missing)
            {
                continue;
            }

            var framework = frameworks.For(partner.Details.Sector);
            var metrics = framework is null ? new Dictionary<string, decimal>() : Metrics(framework, partner.OdsCode == UnderPressure ? 4 : 2);
            var assessment = framework is null ? new Assessment(null, null, 0, 0, []) : Scoring.Score(framework, metrics);
            var declared = assessment.Level is null ? 2 : (int?)null;
            var (latest, submitted) = await returns.SubmitAsync(
                new ReturnSubmission(
                    today, partner.OdsCode, partner.Details.Sector, partner.Details.SizeWeight, metrics, assessment, declared,
                    declared is null ? null : "Demo: no OPEL table for this sector", null, frameworks.Version, "Demo morning", now),
                null, cancellationToken);
            changed |= submitted;
            await ReturnEndpoints.FollowUpAsync(durable, today, partner, latest, options, escalations, raise, rounds, now, actor, cancellationToken);
        }

        // Assessed now rather than at the deadline, by the round's own orchestration (past the deadline, the returns are late
        // ones and re-assessed as a burst); the answer waits (bounded) for an assessment begun after they were all written.
        var written = time.GetUtcNow();
        await durable.RaiseEventAsync(RoundOrchestration.InstanceId(today), RoundOrchestration.WakeEvent, new RoundWake(AssessNow: true), cancellationToken);
        await Api.WaitAsync(
            () => rounds.LoadAsync(today, cancellationToken), r => r is { Assessments: > 0 } && (!changed || r.AssessedAt >= written), TimeSpan.FromSeconds(30), cancellationToken);
        var round = await RoundEndpoints.LoadAsync(today, rounds, reader, cancellationToken);
        return TypedResults.Ok(new
        {
            date = today,
            status = round.Status,
            expected = round.Expected,
            received = round.Received,
            missing = round.Missing,
            systemLevel = round.SystemLevel,
            systemScore = round.SystemScore,
            link = $"/api/returns/{RoundWorkflow.Key(today)}",
        });
    }

    /// <summary>Metrics that put every parameter at <paramref name="level"/> (just past its threshold).</summary>
    private static Dictionary<string, decimal> Metrics(Framework framework, int level) => framework.Parameters.ToDictionary(
        p => p.Key,
        p =>
        {
            var threshold = level switch { 4 => p.Level4, 3 => p.Level3, _ => p.Level2 };
            var value = p.WorseWhen == Direction.HigherIsWorse ? threshold : threshold - ((p.Max - p.Min) / 1000m);
            return Math.Clamp(value, p.Min, p.Max);
        });
}
