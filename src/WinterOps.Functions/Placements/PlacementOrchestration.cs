using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Placements;

// Everything below crosses the Durable boundary and sits in the task hub in plain text: ids, codes, dates and
// statuses only. The patient reference, NHS number, needs text and people's answers stay in the placement's rows.

/// <summary>The orchestration's input.</summary>
public sealed record PlacementInput(string PlacementId);

/// <summary>The <see cref="PlacementOrchestration.ResponseEvent"/>: a person's answer, stored as <c>action-{ResponseId}</c>.</summary>
public sealed record PlacementResponse(string ResponseId, ResponseKind Kind, string? CqcLocationId);

public enum ResponseKind
{
    Accept,
    Decline,
    Cancel,
    Admitted,
}

/// <summary>An open offer: which home, until when.</summary>
public sealed record OpenOffer(string CqcLocationId, DateTimeOffset ExpiresAt);

/// <summary>
/// Where a placement stands after a step, as the orchestration needs it; <see cref="Version"/> counts its audited events.
/// <see cref="WakeAt"/> is when its next deadline falls due by the app's clock, <see cref="WakeAfter"/> how long that is
/// from the step: the orchestration waits that long, so a simulated clock (tests, demos) and Durable's own agree.
/// </summary>
public sealed record PlacementProgress(
    string PlacementId, PlacementPhase Phase, int Round, BedType BedType, IReadOnlyList<OpenOffer> OpenOffers, string? BookedWith,
    DateTimeOffset? WakeAt, TimeSpan? WakeAfter, long Version)
{
    public bool IsOpen(string? cqcLocationId) => OpenOffers.Any(o => o.CqcLocationId == cqcLocationId);
}

/// <summary>A person's answer to decide; <see cref="Refused"/> is the reason when the orchestration refuses it before deciding (no free bed).</summary>
public sealed record ResponseStep(string PlacementId, string ResponseId, string? Refused = null);

/// <summary>A timer fired (<see cref="StepId"/> names the firing): offers due expire, an unplaced placement is checked against its required-by date.</summary>
public sealed record TimerStep(string PlacementId, string StepId);

/// <summary>A bed of the placement's type at one home: reserved, released or occupied.</summary>
public sealed record BedStep(string PlacementId, string CqcLocationId, BedType BedType);

/// <summary>The audited events (versions after <see cref="FromVersion"/> up to <see cref="ToVersion"/>) whose notices are due.</summary>
public sealed record NoticeStep(string PlacementId, long FromVersion, long ToVersion);

/// <summary>What the orchestration shows while it runs (custom status): <see cref="Version"/> is the last audited event it has acted on and notified.</summary>
public sealed record PlacementStatus(string Phase, int Round, int OpenOffers, DateTimeOffset? WaitingUntil, long Version);

/// <summary>
/// One care-home placement, from the request to admission or cancellation: rank the homes and make the first round
/// of time-limited offers; then take responses one at a time, each against the offers' deadline, so the first valid
/// acceptance with a reserved bed wins by construction. Declines and expiries start the next round; after the last
/// round the placement is unplaced (the coordination centre is told) and, past its required-by date, escalated.
/// A booked placement waits for its admission or cancellation. Instance id = placement id.
/// </summary>
public static class PlacementOrchestration
{
    public const string Name = "Placement";
    public const string ResponseEvent = "Response";

    private static readonly TaskOptions Retry = ActivityRetry.Options;

    [Function(Name)]
    public static async Task<string> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var id = context.GetInput<PlacementInput>()!.PlacementId;
        var progress = await StepAsync(context, nameof(PlacementActivities.OpenPlacement), id, null);
        Task<PlacementResponse>? response = null;
        while (progress.Phase is not (PlacementPhase.Cancelled or PlacementPhase.Admitted))
        {
            context.SetCustomStatus(Status(progress));

            // One wait for the next response, kept across timers: an answer is never lost to a timer that fired first.
            response ??= context.WaitForExternalEvent<PlacementResponse>(ResponseEvent);
            if (progress.WakeAfter is { } wait)
            {
                using var timer = new CancellationTokenSource();
                var due = context.CreateTimer(context.CurrentUtcDateTime + wait, timer.Token);
                if (await Task.WhenAny(response, due) == due)
                {
                    var fired = new TimerStep(id, TimerStepId(context.CurrentUtcDateTime));
                    progress = await StepAsync(context, nameof(PlacementActivities.PlacementTimerFired), fired, progress);
                    continue;
                }

                timer.Cancel(); // the losing timer must not keep the instance waiting; not CancelAsync (orchestrator code stays on its thread)
            }

            progress = await RespondAsync(context, progress, await response);
            response = null;
        }

        context.SetCustomStatus(Status(progress));
        return Names<PlacementPhase>.Of(progress.Phase);
    }

    /// <summary>An answer: an acceptance first holds a bed at the home, then books; a cancellation or admission then moves the bed.</summary>
    private static async Task<PlacementProgress> RespondAsync(TaskOrchestrationContext context, PlacementProgress before, PlacementResponse response)
    {
        var id = before.PlacementId;
        var step = new ResponseStep(id, response.ResponseId);
        switch (response.Kind)
        {
            case ResponseKind.Accept when before.Phase == PlacementPhase.AwaitingResponses && before.IsOpen(response.CqcLocationId):
                var home = response.CqcLocationId!;
                var bed = new BedStep(id, home, before.BedType);
                var refused = await context.CallActivityAsync<string?>(nameof(PlacementActivities.ReserveBed), bed, Retry);
                if (refused is not null)
                {
                    return await StepAsync(context, nameof(PlacementActivities.DecideResponse), step with { Refused = refused }, before);
                }

                var booked = await StepAsync(context, nameof(PlacementActivities.DecideResponse), step, before);
                if (booked.BookedWith != home)
                {
                    await context.CallActivityAsync(nameof(PlacementActivities.ReleaseBed), bed, Retry); // refused after all (expired, If-Match)
                }

                return booked;
            case ResponseKind.Cancel:
                var cancelled = await StepAsync(context, nameof(PlacementActivities.DecideResponse), step, before);
                if (cancelled.Phase == PlacementPhase.Cancelled && before.BookedWith is { } held)
                {
                    await context.CallActivityAsync(nameof(PlacementActivities.ReleaseBed), new BedStep(id, held, before.BedType), Retry);
                }

                return cancelled;
            case ResponseKind.Admitted:
                var admitted = await StepAsync(context, nameof(PlacementActivities.DecideResponse), step, before);
                if (admitted.Phase == PlacementPhase.Admitted && before.BookedWith is { } bookedHome)
                {
                    await context.CallActivityAsync(nameof(PlacementActivities.AdmitPatient), new BedStep(id, bookedHome, before.BedType), Retry);
                }

                return admitted;
            default:
                // A decline, or an acceptance of an offer that is no longer open: the rules decide (and refuse with the reason).
                return await StepAsync(context, nameof(PlacementActivities.DecideResponse), step, before);
        }
    }

    /// <summary>Runs a step's activity, then tells people what the step changed.</summary>
    private static async Task<PlacementProgress> StepAsync(TaskOrchestrationContext context, string activity, object input, PlacementProgress? before)
    {
        var after = await context.CallActivityAsync<PlacementProgress>(activity, input, Retry);
        var from = before?.Version ?? 0;
        if (after.Version > from)
        {
            await context.CallActivityAsync(nameof(PlacementActivities.NotifyPlacement), new NoticeStep(after.PlacementId, from, after.Version), Retry);
        }

        return after;
    }

    private static PlacementStatus Status(PlacementProgress p) => new(Names<PlacementPhase>.Of(p.Phase), p.Round, p.OpenOffers.Count, p.WakeAt, p.Version);

    /// <summary>The step id of a timer step: its time, to the millisecond.</summary>
    public static string TimerStepId(DateTime at) => "timer-" + at.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
}
