using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Notifications;

namespace WinterOps.Functions.Opel;

/// <summary>
/// The round's I/O. Work that scales with the number of partners (reading their returns, writing the assessment,
/// notices) is done here in chunks, never as an activity or event per partner; each activity returns a small summary
/// and writes the same rows when it runs again.
/// </summary>
public sealed class RoundActivities(
    RoundStore rounds, RoundReader reader, Escalations escalations, FrameworkSet frameworks, RoundOptions options, EscalationOptions policy,
    Notifier notices, TimeProvider time)
{
    private static readonly Actor Round = Actor.System("daily-round");

    /// <summary>Opens the round (once): its schedule from the configured London times, and how many partners are expected.</summary>
    [Function(nameof(OpenRound))]
    public async Task<RoundProgress> OpenRound([ActivityTrigger] DateOnly date, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expected = (await rounds.LoadAsync(date, cancellationToken))?.Phase is null or RoundPhase.NotOpen
            ? (await reader.ReadAsync(date, cancellationToken)).Expected.Count
            : 0;
        var schedule = RoundSchedule.For(date, options.ReminderAt, options.DeadlineAt);
        var opened = await rounds.RecordAsync(date, Round, now, r => r.Phase == RoundPhase.NotOpen
            ? (r with { Phase = RoundPhase.Collecting, Expected = expected, Schedule = schedule }, "RoundOpened", new { expected, schedule })
            : null, cancellationToken);
        return Progress(opened);
    }

    /// <summary>The round by the app's clock now.</summary>
    [Function(nameof(ReadRound))]
    public async Task<RoundProgress> ReadRound([ActivityTrigger] DateOnly date, CancellationToken cancellationToken) =>
        Progress((await rounds.LoadAsync(date, cancellationToken))!);

    /// <summary>
    /// Plans a notice to the round's partners as batches (fixed once planned): the request to those expected, the
    /// reminder to those without a return (before the deadline only), the carried-forward notice to those missing at the assessment.
    /// </summary>
    [Function(nameof(PlanNotice))]
    public async Task<int> PlanNotice([ActivityTrigger] NoticePlan plan, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var batches = await rounds.PlanNoticeAsync(plan.Date, plan.Kind, async () => plan.Kind switch
        {
            RoundNotice.Requested => (await reader.ReadAsync(plan.Date, cancellationToken)).Expected,
            RoundNotice.Reminder => (await rounds.LoadAsync(plan.Date, cancellationToken))!.Schedule!.DeadlineAt > now
                ? (await reader.ReadAsync(plan.Date, cancellationToken)).Missing()
                : [],
            RoundNotice.Missing => (await rounds.ReadPartnersAsync(plan.Date, cancellationToken)).Where(p => p.Missing).Select(p => p.OdsCode).ToList(),
            _ => throw new ArgumentOutOfRangeException(nameof(plan), plan.Kind, null),
        }, cancellationToken);
        if (plan.Kind == RoundNotice.Reminder)
        {
            await rounds.RecordAsync(plan.Date, Round, now, r => r.Reminded ? null : (r with { Reminded = true }, "RoundReminded", new { batches }), cancellationToken);
        }

        return batches;
    }

    /// <summary>Sends one batch of a notice: one notification to up to <see cref="RoundStore.Batch"/> partners, id "round-{date}.{kind}.{batch}".</summary>
    [Function(nameof(SendNotice))]
    public async Task SendNotice([ActivityTrigger] NoticeBatch batch, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var round = (await rounds.LoadAsync(batch.Date, cancellationToken))!;
        var codes = await rounds.ReadNoticeBatchAsync(batch.Date, batch.Kind, batch.Batch, cancellationToken);
        if (RoundWorkflow.Notice(batch.Kind, batch.Date, round.Schedule!, codes) is { } notice)
        {
            var key = RoundWorkflow.Key(batch.Date);
            await notices.NotifyAsync(
                durable, $"round-{key}.{batch.Kind}.{batch.Batch.ToString("D5", CultureInfo.InvariantCulture)}", $"round-{key}", notice, time.GetUtcNow(), cancellationToken);
        }
    }

    /// <summary>
    /// Assesses the round: reads every partner's return (missing ones carried forward), scores the pillars and the
    /// system (the pure rules), writes each partner's level (a transaction per 100), raises or resolves the escalations
    /// of rules 1-4, tells the coordinators, and last records the round's figures: a re-run after a stop repeats every
    /// step (each is idempotent), one after the record changes nothing.
    /// </summary>
    [Function(nameof(AssessRound))]
    public async Task<RoundProgress> AssessRound([ActivityTrigger] AssessStep step, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stored = (await rounds.LoadAsync(step.Date, cancellationToken))!;
        if (stored.Assessments >= step.Number)
        {
            return Progress(stored); // made by an earlier run of this activity
        }

        var read = await reader.ReadAsync(step.Date, cancellationToken);
        var assessment = RoundWorkflow.Assess(read.Inputs, frameworks.PillarWeights, reassessment: step.Number > 1, now);
        await rounds.WritePartnersAsync(step.Date, assessment.Partners, step.Number, cancellationToken);
        var key = RoundWorkflow.Key(step.Date);
        var previous = new List<int?>();
        foreach (var day in new[] { step.Date.AddDays(-1), step.Date.AddDays(-2) })
        {
            previous.Add((await rounds.LoadAsync(day, cancellationToken))?.SystemLevel);
        }

        var escalationPolicy = new EscalationPolicy(read.SystemLadder, policy.AcknowledgeWithin, policy.InForce, previous);
        await Parallel.ForEachAsync(
            RoundWorkflow.Escalations(step.Date, escalationPolicy, assessment), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (change, ct) => await escalations.ApplyAsync(durable, change, $"round-{key}.{step.Number.ToString(CultureInfo.InvariantCulture)}", Round, ct));
        await notices.NotifyAsync(durable, $"round-{key}.assessed.{step.Number.ToString(CultureInfo.InvariantCulture)}", $"round-{key}", RoundWorkflow.Assessed(step.Date, assessment), now, cancellationToken);

        var after = await rounds.RecordAsync(step.Date, Round, now, r => r.Assessments >= step.Number
            ? null
            : (r with
            {
                Phase = RoundPhase.Assessed, Assessments = step.Number, SystemLevel = assessment.SystemLevel, SystemScore = assessment.SystemScore,
                Pillars = assessment.Pillars, AssessedAt = now,
            }, "RoundAssessed", new { number = step.Number, assessment.SystemLevel, assessment.SystemScore, missing = assessment.Missing().Count, partners = assessment.Partners.Count }),
            cancellationToken);

        return Progress(after);
    }

    private RoundProgress Progress(StoredRound round)
    {
        var now = time.GetUtcNow();
        var schedule = round.Schedule ?? RoundSchedule.For(round.Date, options.ReminderAt, options.DeadlineAt);
        return new RoundProgress(
            round.Date, round.Phase, round.Reminded, round.Assessments, round.SystemLevel, Until(schedule.ReminderAt, now), Until(schedule.DeadlineAt, now),
            Until(schedule.ClosesAt, now));
    }

    private static TimeSpan Until(DateTimeOffset at, DateTimeOffset now) => at > now ? at - now : TimeSpan.Zero;
}
