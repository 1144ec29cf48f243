using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Notifications;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Opel;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Http;
using WinterOps.Functions.Opel;

namespace WinterOps.Functions.Placements;

/// <summary>
/// The placement's I/O, one activity per step. Each may run more than once (at least once) and writes the same
/// rows when it does: a step is decided once (<see cref="PlacementStore.ApplyAsync"/>), a bed is held once per
/// placement (<see cref="CareHomeStore"/>), and notices carry deterministic ids.
/// </summary>
public sealed class PlacementActivities(
    PlacementStore placements, CareHomeStore homes, OfferBoard board, PlacementOptions options, EscalationOptions escalations,
    Notifier notices, Escalations escalated, TimeProvider time)
{
    private static readonly Actor Timer = Actor.System("timer");

    /// <summary>Ranks the homes for the stored request (the matching rules are pure) and makes the first round of offers.</summary>
    [Function(nameof(OpenPlacement))]
    public async Task<PlacementProgress> OpenPlacement([ActivityTrigger] string placementId, CancellationToken cancellationToken)
    {
        var stored = await placements.LoadAsync(placementId, cancellationToken)
            ?? throw new InvalidOperationException($"Placement {placementId} has no stored request.");
        if (stored.State.Phase != PlacementPhase.None)
        {
            return Progress(stored); // opened by an earlier run of this activity
        }

        var request = stored.Request ?? throw new InvalidOperationException($"Placement {placementId} has no stored request.");
        var candidates = await RankAsync(request, cancellationToken);
        var policy = options.Policy with { EscalationAcknowledgeWithin = escalations.UnplacedPlacementWindow };
        var (after, _, _) = await placements.ApplyAsync(placementId, "request", request.By, request.At, s =>
            s.State.Phase == PlacementPhase.None
                ? PlacementWorkflow.Decide(new PlacementCommand.Request(placementId, request.Details, candidates, policy, request.At), s.State)
                : [], cancellationToken);
        return Progress(after);
    }

    /// <summary>Decides a person's answer, stored as its action row, and records the decision for the person waiting on it.</summary>
    [Function(nameof(DecideResponse))]
    public async Task<PlacementProgress> DecideResponse([ActivityTrigger] ResponseStep step, CancellationToken cancellationToken)
    {
        var action = await placements.LoadActionAsync(step.PlacementId, step.ResponseId, cancellationToken)
            ?? throw new InvalidOperationException($"Response {step.ResponseId} of placement {step.PlacementId} has no stored action.");
        var (after, _, _) = await placements.ApplyAsync(step.PlacementId, step.ResponseId, action.By, At(action.Command), s =>
        {
            if (step.Refused is { } reason)
            {
                throw new CommandRejectedException(reason) { State = Names<PlacementPhase>.Of(s.State.Phase) };
            }

            if (action.ExpectedVersion is { } expected && expected != s.Version)
            {
                throw new VersionMismatchException($"placement-{step.PlacementId}", expected, s.Version);
            }

            return PlacementWorkflow.Decide(action.Command, s.State);
        }, cancellationToken);
        return Progress(after);
    }

    /// <summary>A timer fired: offers past their deadline expire (the last one closing a round starts the next), or the required-by date is checked.</summary>
    [Function(nameof(PlacementTimerFired))]
    public async Task<PlacementProgress> PlacementTimerFired([ActivityTrigger] TimerStep step, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (after, _, _) = await placements.ApplyAsync(step.PlacementId, step.StepId, Timer, now, s =>
        {
            var state = s.State;
            var events = new List<PlacementEvent>();
            IEnumerable<PlacementCommand> due = state.Phase switch
            {
                PlacementPhase.AwaitingResponses => state.OpenOffers.Where(o => o.ExpiresAt <= now)
                    .Select(o => new PlacementCommand.ExpireOffer(o.CqcLocationId, o.Round, now)).ToList(),
                PlacementPhase.Unplaced => [new PlacementCommand.CheckRequiredBy(now)],
                _ => [],
            };
            foreach (var command in due)
            {
                var decided = PlacementWorkflow.Decide(command, state).ToList();
                state = decided.Aggregate(state, PlacementWorkflow.Evolve);
                events.AddRange(decided);
            }

            return events;
        }, cancellationToken);
        return Progress(after);
    }

    /// <summary>
    /// Holds a bed of the placement's type at the home, or says why it cannot (null: held). The reservation row and
    /// the home's figures change in one ETag-guarded transaction; a re-run finds the placement's own reservation.
    /// </summary>
    [Function(nameof(ReserveBed))]
    public async Task<string?> ReserveBed([ActivityTrigger] BedStep step, CancellationToken cancellationToken)
    {
        try
        {
            await homes.ApplyAsync(
                step.CqcLocationId, new CareHomeCommand.Reserve(step.PlacementId, step.BedType, time.GetUtcNow()), For(step), time.GetUtcNow(), null, cancellationToken);
            return null;
        }
        catch (CommandRejectedException refused)
        {
            return $"{refused.Message} The offer stays open: accept again when a bed is free, or decline.";
        }
    }

    /// <summary>Gives the placement's bed at the home back (cancelled, or an acceptance refused after the bed was held).</summary>
    [Function(nameof(ReleaseBed))]
    public async Task ReleaseBed([ActivityTrigger] BedStep step, CancellationToken cancellationToken) =>
        await homes.ApplyAsync(
            step.CqcLocationId, new CareHomeCommand.Release(step.PlacementId, "The placement no longer needs the bed."), For(step), time.GetUtcNow(), null, cancellationToken);

    /// <summary>The patient arrived: the held bed becomes an occupied one.</summary>
    [Function(nameof(AdmitPatient))]
    public async Task AdmitPatient([ActivityTrigger] BedStep step, CancellationToken cancellationToken) =>
        await homes.ApplyAsync(
            step.CqcLocationId, new CareHomeCommand.Admit(step.PlacementId, time.GetUtcNow()), For(step), time.GetUtcNow(), null, cancellationToken);

    /// <summary>Who changes a home's beds: the placement's orchestration (the people are in the placement's audit trail).</summary>
    private static Actor For(BedStep step) => Actor.System($"placement {step.PlacementId}");

    /// <summary>
    /// Tells people what the audited events changed: the homes' offer lists, the inbox and the external channels
    /// (through a delivery orchestration), and the rule-5 escalation. Ids are "placement-{id}.{version}.{index}".
    /// </summary>
    [Function(nameof(NotifyPlacement))]
    public async Task NotifyPlacement([ActivityTrigger] NoticeStep step, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var state = PlacementState.Initial;
        foreach (var entry in await placements.ReadHistoryAsync(step.PlacementId, cancellationToken))
        {
            var @event = PlacementWorkflow.Events.Deserialize(entry.Type, entry.Data);
            state = PlacementWorkflow.Evolve(state, @event);
            if (entry.Version <= step.FromVersion || entry.Version > step.ToVersion)
            {
                continue;
            }

            var index = 0;
            foreach (var reaction in PlacementWorkflow.React(state, @event))
            {
                var id = $"placement-{step.PlacementId}.{entry.Version.ToString("D10", CultureInfo.InvariantCulture)}.{index++}";
                switch (reaction)
                {
                    case Reaction.Notify notify:
                        await notices.NotifyAsync(durable, id, $"placement-{step.PlacementId}", notify.Notification, entry.At, cancellationToken);
                        break;
                    case Reaction.Send { Workflow: EscalationWorkflow.Name } send:
                        await escalated.ApplyAsync(durable, send, id, Timer, cancellationToken);
                        break;
                }
            }
        }
    }

    private async Task<IReadOnlyList<Candidate>> RankAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        var openOffers = await board.CountOpenAsync(cancellationToken);
        var snapshots = new List<HomeSnapshot>();
        await foreach (var (home, _) in homes.LoadAllAsync(cancellationToken))
        {
            snapshots.Add(new HomeSnapshot(home, openOffers.GetValueOrDefault(home.CqcLocationId)));
        }

        // Only the homes that can ever get an offer are kept with the request.
        return Matching.Rank(request.Details, snapshots, request.At, options.VacancyFreshness).Take(options.OffersPerRound * options.MaxRounds).ToList();
    }

    private static DateTimeOffset At(PlacementCommand command) => command switch
    {
        PlacementCommand.Accept c => c.At,
        PlacementCommand.Decline c => c.At,
        PlacementCommand.Cancel c => c.At,
        PlacementCommand.RecordAdmission c => c.At,
        _ => throw new InvalidOperationException($"{command.GetType().Name} is not a person's answer."),
    };

    /// <summary>What the orchestration needs to know: no patient details.</summary>
    private PlacementProgress Progress(StoredPlacement stored)
    {
        var s = stored.State;
        var open = s.OpenOffers.Select(o => new OpenOffer(o.CqcLocationId, o.ExpiresAt)).ToList();
        DateTimeOffset? wakeAt = s.Phase switch
        {
            PlacementPhase.AwaitingResponses when open.Count > 0 => open.Min(o => o.ExpiresAt),
            PlacementPhase.Unplaced when !s.Escalated && s.Details is { } details => PlacementWorkflow.EndOfRequiredBy(details),
            _ => null,
        };
        var wakeAfter = wakeAt - time.GetUtcNow();
        return new PlacementProgress(
            s.PlacementId, s.Phase, s.Round, s.Details?.BedType ?? default, open, s.Booking?.CqcLocationId, wakeAt,
            wakeAfter < TimeSpan.Zero ? TimeSpan.Zero : wakeAfter, stored.Version);
    }
}
