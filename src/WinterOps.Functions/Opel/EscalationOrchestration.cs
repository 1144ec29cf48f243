using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using WinterOps.Core.Opel;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Opel;

// Everything below crosses the Durable boundary: the escalation id, statuses, steps and durations only. The on-call
// contacts' names, the summary and people's notes stay in the escalation's rows.

/// <summary>The orchestration's input.</summary>
public sealed record EscalationInput(string EscalationId);

/// <summary>The <see cref="EscalationOrchestration.ChangedEvent"/>: a person's action to decide (stored as <c>action-{ActionId}</c>), or, when null, "read me again" (a raise or resolution by the rules).</summary>
public sealed record EscalationSignal(string? ActionId);

/// <summary>
/// Where an escalation stands, as the orchestration needs it: <see cref="Step"/> is the number of alerts sent;
/// <see cref="WakeAfter"/> how long until the alert's window ends (alerted) or its day ends (resolved), by the app's
/// clock; <see cref="Ends"/> when resolved and its day is over, so it cannot reopen.
/// </summary>
public sealed record EscalationProgress(string EscalationId, EscalationStatus Status, int Step, TimeSpan? WakeAfter, bool Ends, long Version);

/// <summary>A timer fired: the acknowledgement window of alert <see cref="Step"/> ended.</summary>
public sealed record EscalationDue(string EscalationId, int Step);

/// <summary>A person's action to decide.</summary>
public sealed record EscalationActionStep(string EscalationId, string ActionId);

/// <summary>The audited events (versions after <see cref="FromVersion"/> up to <see cref="ToVersion"/>) whose notices are due.</summary>
public sealed record EscalationNotices(string EscalationId, long FromVersion, long ToVersion);

/// <summary>What the orchestration shows while it runs (custom status); <see cref="Version"/> is the last audited event notified.</summary>
public sealed record EscalationStatusView(string Status, int Step, long Version);

/// <summary>
/// One escalation (a condition on a day): alert on-call step 1, then wait for an acknowledgement or the end of the
/// window, and alert the next step, and so on; stop when someone acknowledges; resolve, and reopen as the condition
/// changes, until the day is over. Instance id = <c>escalation-{id}</c>; the escalation's rows say what happened.
/// </summary>
public static class EscalationOrchestration
{
    public const string Name = "Escalation";
    public const string ChangedEvent = "Changed";

    private static readonly TaskOptions Retry = ActivityRetry.Options;

    public static string InstanceId(string escalationId) => $"escalation-{escalationId}";

    [Function(Name)]
    public static async Task<string> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var id = context.GetInput<EscalationInput>()!.EscalationId;
        var progress = await context.CallActivityAsync<EscalationProgress>(nameof(EscalationActivities.EscalationStarted), id, Retry);
        var notified = await NotifyAsync(context, progress, 0);
        Task<EscalationSignal>? signal = null;
        while (!progress.Ends)
        {
            context.SetCustomStatus(new EscalationStatusView(Names<EscalationStatus>.Of(progress.Status), progress.Step, notified));

            // One wait for the next change, kept across timers: a person's action is never lost to a timer that fired first.
            signal ??= context.WaitForExternalEvent<EscalationSignal>(ChangedEvent);
            if (progress.WakeAfter is { } wait)
            {
                using var timer = new CancellationTokenSource();
                var due = context.CreateTimer(context.CurrentUtcDateTime + wait, timer.Token);
                if (await Task.WhenAny(signal, due) == due)
                {
                    progress = progress.Status == EscalationStatus.Alerted
                        ? await context.CallActivityAsync<EscalationProgress>(nameof(EscalationActivities.AcknowledgementDue), new EscalationDue(id, progress.Step), Retry)
                        : await context.CallActivityAsync<EscalationProgress>(nameof(EscalationActivities.EscalationRead), id, Retry);
                    notified = await NotifyAsync(context, progress, notified);
                    continue;
                }

                timer.Cancel(); // the losing timer must not keep the instance waiting
            }

            var changed = await signal;
            signal = null;
            progress = changed.ActionId is { } action
                ? await context.CallActivityAsync<EscalationProgress>(nameof(EscalationActivities.DecideEscalation), new EscalationActionStep(id, action), Retry)
                : await context.CallActivityAsync<EscalationProgress>(nameof(EscalationActivities.EscalationRead), id, Retry);
            notified = await NotifyAsync(context, progress, notified);
        }

        context.SetCustomStatus(new EscalationStatusView(Names<EscalationStatus>.Of(progress.Status), progress.Step, notified));
        return Names<EscalationStatus>.Of(progress.Status);
    }

    /// <summary>Tells people of the events since the last notified version; returns the version now notified.</summary>
    private static async Task<long> NotifyAsync(TaskOrchestrationContext context, EscalationProgress progress, long notified)
    {
        if (progress.Version > notified)
        {
            await context.CallActivityAsync(
                nameof(EscalationActivities.NotifyEscalation), new EscalationNotices(progress.EscalationId, notified, progress.Version), Retry);
        }

        return Math.Max(notified, progress.Version);
    }
}
