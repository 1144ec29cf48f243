using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using WinterOps.Core.Opel;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Opel;

// Everything below crosses the Durable boundary: dates, counts, levels and durations only. Partners' figures stay
// in their return rows, and the assessment in the round's rows.

/// <summary>The orchestration's input.</summary>
public sealed record RoundInput(DateOnly Date);

/// <summary>
/// The <see cref="RoundOrchestration.WakeEvent"/>: look at the app's clock again now (its time was moved, or the host
/// was down); <see cref="AssessNow"/> assesses at once (the demo's simulated morning).
/// </summary>
public sealed record RoundWake(bool AssessNow);

/// <summary>
/// Where a round stands, as the orchestration needs it: how long until the reminder, the deadline and midnight by the
/// app's clock (zero once past), whether it reminded, and how many assessments it made.
/// </summary>
public sealed record RoundProgress(
    DateOnly Date, RoundPhase Phase, bool Reminded, int Assessments, int? SystemLevel, TimeSpan ReminderAfter, TimeSpan DeadlineAfter, TimeSpan ClosesAfter);

/// <summary>Assessment number <see cref="Number"/> of the day (1 at the deadline, then one per burst of late returns).</summary>
public sealed record AssessStep(DateOnly Date, int Number);

/// <summary>A notice to the round's partners, planned as batches.</summary>
public sealed record NoticePlan(DateOnly Date, RoundNotice Kind);

/// <summary>One batch of a notice.</summary>
public sealed record NoticeBatch(DateOnly Date, RoundNotice Kind, int Batch);

/// <summary>What the orchestration shows while it runs (custom status).</summary>
public sealed record RoundStatus(string Phase, bool Reminded, int Assessments, int? SystemLevel);

/// <summary>
/// The daily OPEL round: ask every expected partner, remind the missing at the reminder time, assess at the deadline,
/// then re-assess after late returns and revisions (each burst once) until midnight. Returns before the deadline never
/// touch it: they stay on their own rows, which the assessment reads. Instance id = <c>round-{date}</c>.
/// </summary>
public static class RoundOrchestration
{
    public const string Name = "Round";
    public const string WakeEvent = "Wake";
    public const string ReturnArrivedEvent = "ReturnArrived";

    private static readonly TaskOptions Retry = ActivityRetry.Options;

    public static string InstanceId(DateOnly date) => $"round-{RoundWorkflow.Key(date)}";

    [Function(Name)]
    public static async Task RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var date = context.GetInput<RoundInput>()!.Date;
        var progress = await context.CallActivityAsync<RoundProgress>(nameof(RoundActivities.OpenRound), date, Retry);
        await NoticeAsync(context, date, RoundNotice.Requested);

        // Until the deadline: the reminder, then the assessment. A wake looks at the app's clock again.
        Task<RoundWake>? wake = null;
        while (progress.Assessments == 0 && progress.DeadlineAfter > TimeSpan.Zero)
        {
            context.SetCustomStatus(Status(progress));
            wake ??= context.WaitForExternalEvent<RoundWake>(WakeEvent);
            var wait = progress.Reminded || progress.ReminderAfter == TimeSpan.Zero ? progress.DeadlineAfter : progress.ReminderAfter;
            using var timer = new CancellationTokenSource();
            var due = context.CreateTimer(context.CurrentUtcDateTime + wait, timer.Token);
            if (await Task.WhenAny(wake, due) == wake)
            {
                timer.Cancel();
                var woken = await wake;
                wake = null;
                if (woken.AssessNow)
                {
                    break;
                }
            }

            progress = await context.CallActivityAsync<RoundProgress>(nameof(RoundActivities.ReadRound), date, Retry);
            if (!progress.Reminded && progress.ReminderAfter == TimeSpan.Zero && progress.DeadlineAfter > TimeSpan.Zero)
            {
                await NoticeAsync(context, date, RoundNotice.Reminder);
                progress = progress with { Reminded = true };
            }
        }

        if (progress.Assessments == 0)
        {
            progress = await context.CallActivityAsync<RoundProgress>(nameof(RoundActivities.AssessRound), new AssessStep(date, 1), Retry);
            await NoticeAsync(context, date, RoundNotice.Missing);
        }

        // Until midnight: each burst of late returns and revisions is re-assessed once, shortly after its first.
        Task<string>? arrived = null;
        while (progress.ClosesAfter > TimeSpan.Zero)
        {
            context.SetCustomStatus(Status(progress));
            arrived ??= context.WaitForExternalEvent<string>(ReturnArrivedEvent);
            using (var closing = new CancellationTokenSource())
            {
                var closes = context.CreateTimer(context.CurrentUtcDateTime + progress.ClosesAfter, closing.Token);
                if (await Task.WhenAny(arrived, closes) == closes)
                {
                    break;
                }

                closing.Cancel();
            }

            using (var gathering = new CancellationTokenSource())
            {
                var gathered = context.CreateTimer(context.CurrentUtcDateTime + RoundWorkflow.ReassessDelay, gathering.Token);
                do
                {
                    arrived = context.WaitForExternalEvent<string>(ReturnArrivedEvent); // the rest of the burst
                }
                while (await Task.WhenAny(arrived, gathered) == arrived);
            }

            progress = await context.CallActivityAsync<RoundProgress>(nameof(RoundActivities.AssessRound), new AssessStep(date, progress.Assessments + 1), Retry);
        }

        context.SetCustomStatus(Status(progress));
    }

    /// <summary>A notice to many partners: planned once, then sent a batch per activity.</summary>
    private static async Task NoticeAsync(TaskOrchestrationContext context, DateOnly date, RoundNotice kind)
    {
        var batches = await context.CallActivityAsync<int>(nameof(RoundActivities.PlanNotice), new NoticePlan(date, kind), Retry);
        await Task.WhenAll(Enumerable.Range(0, batches).Select(batch =>
            context.CallActivityAsync(nameof(RoundActivities.SendNotice), new NoticeBatch(date, kind, batch), Retry)));
    }

    private static RoundStatus Status(RoundProgress p) => new(Names<RoundPhase>.Of(p.Phase), p.Reminded, p.Assessments, p.SystemLevel);
}
