using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Notifications;

namespace WinterOps.Functions.Opel;

/// <summary>
/// The escalation's I/O, one activity per step. Each may run more than once and writes the same rows when it does:
/// a step is decided once (<see cref="EscalationStore.ApplyAsync"/>) and notices carry deterministic ids.
/// </summary>
public sealed class EscalationActivities(EscalationStore store, Notifier notices, TimeProvider time)
{
    private static readonly Actor Timer = Actor.System("timer");

    /// <summary>The orchestration has begun: from now on a change by the rules tells it.</summary>
    [Function(nameof(EscalationStarted))]
    public async Task<EscalationProgress> EscalationStarted([ActivityTrigger] string escalationId, CancellationToken cancellationToken) =>
        Progress(await store.MarkStartedAsync(escalationId, cancellationToken));

    /// <summary>The escalation as stored now (after a change by the rules, or at the end of its day).</summary>
    [Function(nameof(EscalationRead))]
    public async Task<EscalationProgress> EscalationRead([ActivityTrigger] string escalationId, CancellationToken cancellationToken) =>
        Progress((await store.LoadAsync(escalationId, cancellationToken))!);

    /// <summary>Nobody acknowledged alert <see cref="EscalationDue.Step"/> in time: the next contact on the ladder is alerted, with a whole window.</summary>
    [Function(nameof(AcknowledgementDue))]
    public async Task<EscalationProgress> AcknowledgementDue([ActivityTrigger] EscalationDue due, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (after, _, _, _) = await store.ApplyAsync(
            due.EscalationId, $"due-{due.Step.ToString(CultureInfo.InvariantCulture)}", Timer, now,
            s => EscalationWorkflow.Decide(new EscalationCommand.AcknowledgementDue(due.Step, now), s.State), cancellationToken);
        return Progress(after);
    }

    /// <summary>Decides a person's acknowledgement or resolution, stored as its action row, and records the decision for the person waiting on it.</summary>
    [Function(nameof(DecideEscalation))]
    public async Task<EscalationProgress> DecideEscalation([ActivityTrigger] EscalationActionStep step, CancellationToken cancellationToken)
    {
        var action = await store.LoadActionAsync(step.EscalationId, step.ActionId, cancellationToken)
            ?? throw new InvalidOperationException($"Action {step.ActionId} of escalation {step.EscalationId} is not stored.");
        var (after, _, _, _) = await store.ApplyAsync(step.EscalationId, step.ActionId, action.By, At(action.Command), s =>
            action.ExpectedVersion is { } expected && expected != s.Version
                ? throw new VersionMismatchException($"escalation-{step.EscalationId}", expected, s.Version)
                : EscalationWorkflow.Decide(action.Command, s.State), cancellationToken);
        return Progress(after);
    }

    /// <summary>Tells people what the audited events changed (inbox, Teams, Service Bus, webhooks); ids are "escalation-{id}.{version}.{index}".</summary>
    [Function(nameof(NotifyEscalation))]
    public async Task NotifyEscalation([ActivityTrigger] EscalationNotices step, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var state = EscalationState.Initial;
        foreach (var (version, @event, at) in await store.ReadHistoryAsync(step.EscalationId, cancellationToken))
        {
            state = EscalationWorkflow.Evolve(state, @event);
            if (version <= step.FromVersion || version > step.ToVersion)
            {
                continue;
            }

            var index = 0;
            foreach (var notice in EscalationWorkflow.Notices(step.EscalationId, state, @event))
            {
                var id = $"escalation-{step.EscalationId}.{version.ToString("D10", CultureInfo.InvariantCulture)}.{index++}";
                await notices.NotifyAsync(durable, id, $"escalation-{step.EscalationId}", notice, at, cancellationToken);
            }
        }
    }

    private static DateTimeOffset At(EscalationCommand command) => command switch
    {
        EscalationCommand.Acknowledge c => c.At,
        EscalationCommand.Resolve c => c.At,
        _ => throw new InvalidOperationException($"{command.GetType().Name} is not a person's action."),
    };

    private EscalationProgress Progress(StoredEscalation stored)
    {
        var s = stored.State;
        var now = time.GetUtcNow();
        var endOfDay = s.Raised is { } raised ? London.StartOf(raised.Date.AddDays(1)) : now;
        DateTimeOffset? wakeAt = s.Status switch
        {
            EscalationStatus.Alerted => s.Alerts[^1].AcknowledgeBy,
            EscalationStatus.Resolved or EscalationStatus.None when endOfDay > now => endOfDay, // it may reopen until its day ends
            _ => null, // acknowledged: open until resolved
        };
        var wakeAfter = wakeAt - now;
        return new EscalationProgress(
            stored.Id, s.Status, s.Alerts.Count, wakeAfter < TimeSpan.Zero ? TimeSpan.Zero : wakeAfter,
            s.Status is EscalationStatus.Resolved or EscalationStatus.None && endOfDay <= now, stored.Version);
    }
}

/// <summary>
/// How the rules raise and resolve escalations (a return at OPEL 4, an assessment, an unplaced placement): the
/// change is decided on the escalation's row at once (the same condition twice raises once), then its
/// orchestration is started by the step that first raised it, or told to read it again.
/// </summary>
public sealed class Escalations(EscalationStore store)
{
    /// <summary>Applies a raise or resolution, as step <paramref name="stepId"/> (a re-run changes nothing and still starts or tells the orchestration).</summary>
    public async Task ApplyAsync(DurableTaskClient durable, Reaction.Send change, string stepId, Actor by, CancellationToken cancellationToken)
    {
        var command = (EscalationCommand)change.Command;
        var at = command switch
        {
            EscalationCommand.Raise c => c.At,
            EscalationCommand.Resolve c => c.At,
            _ => throw new InvalidOperationException($"{command.GetType().Name} is not raised by the rules."),
        };
        var (stored, _, events, replayed) = await store.ApplyAsync(change.Key, stepId, by, at, s => EscalationWorkflow.Decide(command, s.State), cancellationToken);
        if (stored.State.Raised is null)
        {
            return; // cleared before it was ever raised: nothing runs
        }

        var instance = EscalationOrchestration.InstanceId(change.Key);
        if (!stored.Started && stored.Starter == stepId)
        {
            // Decided by the row, not by the start call; a re-run of the raising step starts it again until it has begun.
            await durable.ScheduleNewOrchestrationInstanceAsync(
                EscalationOrchestration.Name, new EscalationInput(change.Key), new Microsoft.DurableTask.StartOrchestrationOptions(instance), cancellationToken);
        }
        else if (stored.Started && (events.Count > 0 || replayed))
        {
            // A re-run tells it again: the first run may have stopped before it did.
            await durable.RaiseEventAsync(instance, EscalationOrchestration.ChangedEvent, new EscalationSignal(null), cancellationToken);
        }
    }
}
