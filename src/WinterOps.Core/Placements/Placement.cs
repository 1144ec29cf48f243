using System.Globalization;
using System.Text.Json.Serialization;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Placements;

/// <summary>Discharge pathway 2 (short-term bed with recovery support) or 3 (long-term or assessment placement).</summary>
public enum Pathway
{
    [JsonStringEnumMemberName("P2")]
    P2,
    [JsonStringEnumMemberName("P3")]
    P3,
}

public enum FundingRoute
{
    LocalAuthority,
    Chc,
    FundedNursingCare,
    SelfFunder,
    Joint,
}

public enum DeclineReason
{
    NoBedAvailable,
    CannotMeetNeeds,
    FundingNotAgreed,
    StaffingPressure,
    InfectionControl,
    Other,
}

public enum OfferStatus
{
    Open,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
}

public enum PlacementPhase
{
    None,

    /// <summary>Validated and stored; the homes are being ranked (shown for a stored request until its first offers are made).</summary>
    Requested,
    AwaitingResponses,
    Booked,
    Unplaced,
    Cancelled,
    Admitted,
}

/// <summary>
/// What a discharge team asks for: the minimum necessary data, no names or addresses.
/// <see cref="PatientRef"/>, <see cref="NhsNumber"/> and <see cref="NeedsSummary"/> never leave WinterOps in a message.
/// </summary>
public sealed record PlacementRequest(
    string PatientRef,
    string? NhsNumber,
    string ReferringOrg,
    Pathway Pathway,
    BedType BedType,
    FundingRoute FundingRoute,
    IReadOnlyList<string> PreferredLocalities,
    DateOnly RequiredBy,
    string? NeedsSummary,
    IReadOnlyList<ClinicalNeed> ClinicalFlags);

/// <summary>A home that matched the request, in rank order.</summary>
public sealed record Candidate(string CqcLocationId, string Locality);

/// <summary>
/// How offers are made: homes per round, response window, number of rounds (configuration); and the acknowledgement
/// window of the escalation raised when the placement is unplaced past its required-by date (escalation rule 5;
/// null: the rule is off).
/// </summary>
public sealed record OfferPolicy(int OffersPerRound, TimeSpan ResponseWindow, int MaxRounds, TimeSpan? EscalationAcknowledgeWithin = null)
{
    public static OfferPolicy Default { get; } = new(3, TimeSpan.FromHours(4), 3);
}

/// <summary>An offer to one home in one round.</summary>
public sealed record Offer(string CqcLocationId, string Locality, int Round, DateTimeOffset ExpiresAt, OfferStatus Status);

/// <summary>The home, admission date and named contact of a booked placement.</summary>
public sealed record Booking(string CqcLocationId, DateOnly AdmissionDate, string ContactName);

public abstract record PlacementCommand
{
    private PlacementCommand()
    {
    }

    /// <summary>Request a placement; <paramref name="Candidates"/> are the matching homes, best first.</summary>
    public sealed record Request(string PlacementId, PlacementRequest Details, IReadOnlyList<Candidate> Candidates, OfferPolicy Policy, DateTimeOffset At)
        : PlacementCommand;

    /// <summary>The home accepts its offer (its bed is already reserved in the home's row).</summary>
    public sealed record Accept(string CqcLocationId, DateOnly AdmissionDate, string ContactName, DateTimeOffset At) : PlacementCommand;

    public sealed record Decline(string CqcLocationId, DeclineReason Reason, string? Comment, DateTimeOffset At) : PlacementCommand;

    /// <summary>A timer: the response deadline of one offer.</summary>
    public sealed record ExpireOffer(string CqcLocationId, int Round, DateTimeOffset At) : PlacementCommand;

    public sealed record Cancel(string Reason, DateTimeOffset At) : PlacementCommand;

    public sealed record RecordAdmission(DateOnly AdmittedOn, DateTimeOffset At) : PlacementCommand;

    /// <summary>A timer at the end of the required-by date: an unplaced placement is escalated.</summary>
    public sealed record CheckRequiredBy(DateTimeOffset At) : PlacementCommand;
}

public abstract record PlacementEvent
{
    private PlacementEvent()
    {
    }

    /// <summary>A discharge team requested a placement; the matching homes were ranked.</summary>
    public sealed record Requested(string PlacementId, PlacementRequest Details, IReadOnlyList<Candidate> Candidates, OfferPolicy Policy, DateTimeOffset At)
        : PlacementEvent;

    /// <summary>A round of time-limited offers went to the next homes.</summary>
    public sealed record OffersMade(int Round, IReadOnlyList<Offer> Offers) : PlacementEvent;

    /// <summary>A home accepted and its bed was reserved: the placement is booked.</summary>
    public sealed record Booked(string CqcLocationId, DateOnly AdmissionDate, string ContactName, DateTimeOffset At) : PlacementEvent;

    public sealed record OfferDeclined(string CqcLocationId, DeclineReason Reason, string? Comment, DateTimeOffset At) : PlacementEvent;

    /// <summary>A home did not answer within the response window.</summary>
    public sealed record OfferExpired(string CqcLocationId, int Round, DateTimeOffset At) : PlacementEvent;

    /// <summary>Open offers were withdrawn (another home accepted, or the placement was cancelled).</summary>
    public sealed record OffersWithdrawn(IReadOnlyList<string> CqcLocationIds, string Reason, DateTimeOffset At) : PlacementEvent;

    /// <summary>No home could take the patient: no candidates, or every round declined or expired.</summary>
    public sealed record Unplaced(string Reason, DateTimeOffset At) : PlacementEvent;

    /// <summary>Escalated to the coordination centre: unplaced past its required-by date (escalation rule 5).</summary>
    public sealed record EscalatedPastRequiredBy(DateOnly RequiredBy, DateTimeOffset At) : PlacementEvent;

    /// <summary>Cancelled before admission; a reserved bed is released.</summary>
    public sealed record Cancelled(string Reason, string? ReleasedCqcLocationId, DateTimeOffset At) : PlacementEvent;

    /// <summary>The home recorded the admission; the reserved bed is now occupied.</summary>
    public sealed record Admitted(DateOnly AdmittedOn, DateTimeOffset At) : PlacementEvent;
}

/// <summary>A placement: its request, its offers in every round, and where it stands.</summary>
public sealed record PlacementState(
    string PlacementId,
    PlacementPhase Phase,
    PlacementRequest? Details,
    IReadOnlyList<Candidate> Candidates,
    OfferPolicy Policy,
    int Round,
    IReadOnlyList<Offer> Offers,
    Booking? Booking,
    bool Escalated,
    DateTimeOffset? RequestedAt)
{
    public static PlacementState Initial { get; } = new("", PlacementPhase.None, null, [], OfferPolicy.Default, 0, [], null, false, null);

    public Offer? OpenOffer(string cqcLocationId) => Offers.FirstOrDefault(o => o.CqcLocationId == cqcLocationId && o.Status == OfferStatus.Open);

    public IEnumerable<Offer> OpenOffers => Offers.Where(o => o.Status == OfferStatus.Open);
}

/// <summary>
/// The rules of a care-home placement, as pure functions: ranked homes get time-limited offers in rounds; the
/// first valid acceptance (with a reserved bed) books it; all declined or expired moves to the next round; nothing
/// stalls silently (unplaced is an outcome, and escalates past required-by). The <c>Placement</c> orchestration
/// runs the process and its activities store what these functions decide.
/// </summary>
public static class PlacementWorkflow
{
    /// <summary>The stored names of the events: the audit trail's <c>type</c>, a contract that stays readable forever.</summary>
    public static readonly TypeNames<PlacementEvent> Events = new(
        ("PlacementRequested", typeof(PlacementEvent.Requested)),
        ("OffersMade", typeof(PlacementEvent.OffersMade)),
        ("PlacementBooked", typeof(PlacementEvent.Booked)),
        ("OfferDeclined", typeof(PlacementEvent.OfferDeclined)),
        ("OfferExpired", typeof(PlacementEvent.OfferExpired)),
        ("OffersWithdrawn", typeof(PlacementEvent.OffersWithdrawn)),
        ("PlacementUnplaced", typeof(PlacementEvent.Unplaced)),
        ("PlacementEscalated", typeof(PlacementEvent.EscalatedPastRequiredBy)),
        ("PlacementCancelled", typeof(PlacementEvent.Cancelled)),
        ("PlacementAdmitted", typeof(PlacementEvent.Admitted)));

    public static IEnumerable<PlacementEvent> Decide(PlacementCommand command, PlacementState state) =>
        (command, state.Phase) switch
        {
            (PlacementCommand.Request c, PlacementPhase.None) => Start(c),
            (PlacementCommand.Request c, _) when c.PlacementId == state.PlacementId => [],
            (_, PlacementPhase.None) => throw new CommandRejectedException("There is no such placement."),

            (PlacementCommand.Accept c, PlacementPhase.AwaitingResponses) => Accept(c, state),
            (PlacementCommand.Accept, PlacementPhase.Booked) => throw new CommandRejectedException($"The placement is already booked with {state.Booking!.CqcLocationId}."),
            (PlacementCommand.Accept, _) => throw new CommandRejectedException($"The placement is {Phase(state.Phase)}; its offers are closed."),

            (PlacementCommand.Decline c, PlacementPhase.AwaitingResponses) when state.OpenOffer(c.CqcLocationId) is not null =>
                Close(state, new PlacementEvent.OfferDeclined(c.CqcLocationId, c.Reason, c.Comment, c.At), c.At),
            (PlacementCommand.Decline c, _) => throw new CommandRejectedException($"There is no open offer to {c.CqcLocationId} to decline."),

            (PlacementCommand.ExpireOffer c, PlacementPhase.AwaitingResponses) when state.OpenOffer(c.CqcLocationId) is { } o && o.Round == c.Round =>
                Close(state, new PlacementEvent.OfferExpired(c.CqcLocationId, c.Round, c.At), c.At),
            (PlacementCommand.ExpireOffer, _) => [], // the offer was answered or withdrawn: the timer no longer applies

            (PlacementCommand.Cancel, PlacementPhase.Cancelled) => [],
            (PlacementCommand.Cancel, PlacementPhase.Admitted) => throw new CommandRejectedException("The patient has been admitted; the placement cannot be cancelled."),
            (PlacementCommand.Cancel c, _) => Cancel(c, state),

            (PlacementCommand.RecordAdmission c, PlacementPhase.Booked) => [new PlacementEvent.Admitted(c.AdmittedOn, c.At)],
            (PlacementCommand.RecordAdmission, PlacementPhase.Admitted) => [],
            (PlacementCommand.RecordAdmission, _) => throw new CommandRejectedException($"The placement is {Phase(state.Phase)}, not booked."),

            (PlacementCommand.CheckRequiredBy c, PlacementPhase.Unplaced) when !state.Escalated && PastRequiredBy(state.Details!, c.At) =>
                [new PlacementEvent.EscalatedPastRequiredBy(state.Details!.RequiredBy, c.At)],
            (PlacementCommand.CheckRequiredBy, _) => [],

            _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply when the placement is {Phase(state.Phase)}."),
        };

    public static PlacementState Evolve(PlacementState state, PlacementEvent @event) => @event switch
    {
        PlacementEvent.Requested e => state with
        {
            PlacementId = e.PlacementId, Phase = PlacementPhase.AwaitingResponses, Details = e.Details, Candidates = e.Candidates,
            Policy = e.Policy, RequestedAt = e.At,
        },
        PlacementEvent.OffersMade e => state with { Round = e.Round, Offers = [.. state.Offers, .. e.Offers] },
        PlacementEvent.Booked e => state with
        {
            Phase = PlacementPhase.Booked, Booking = new Booking(e.CqcLocationId, e.AdmissionDate, e.ContactName),
            Offers = Set(state.Offers, [e.CqcLocationId], OfferStatus.Accepted),
        },
        PlacementEvent.OfferDeclined e => state with { Offers = Set(state.Offers, [e.CqcLocationId], OfferStatus.Declined) },
        PlacementEvent.OfferExpired e => state with { Offers = Set(state.Offers, [e.CqcLocationId], OfferStatus.Expired) },
        PlacementEvent.OffersWithdrawn e => state with { Offers = Set(state.Offers, e.CqcLocationIds, OfferStatus.Withdrawn) },
        PlacementEvent.Unplaced => state with { Phase = PlacementPhase.Unplaced },
        PlacementEvent.EscalatedPastRequiredBy => state with { Escalated = true },
        PlacementEvent.Cancelled => state with { Phase = PlacementPhase.Cancelled },
        PlacementEvent.Admitted => state with { Phase = PlacementPhase.Admitted },
        _ => state,
    };

    /// <summary>
    /// What must follow an event besides the orchestration's own steps: notifications, and the rule-5 escalation
    /// (raised or resolved on the escalation workflow).
    /// </summary>
    public static IEnumerable<Reaction> React(PlacementState state, PlacementEvent @event)
    {
        var id = state.PlacementId;
        var details = state.Details!;
        switch (@event)
        {
            case PlacementEvent.OffersMade e:
                foreach (var offer in e.Offers)
                {
                    yield return ToHome(state, offer.CqcLocationId, "PlacementOffered", $"New placement offer: {details.BedType} bed, round {offer.Round}", OfferStatus.Open, offer);
                }

                break;
            case PlacementEvent.Booked e:
                yield return ToHome(state, e.CqcLocationId, "PlacementBooked", "Placement booked with your home", OfferStatus.Accepted, null);
                yield return ToTeam(state, "PlacementBooked", $"Placement booked with {e.CqcLocationId}, admission {e.AdmissionDate:yyyy-MM-dd}", ("cqcLocationId", e.CqcLocationId), ("admissionDate", Iso(e.AdmissionDate)));

                break;
            case PlacementEvent.OfferDeclined e:
                yield return ToHome(state, e.CqcLocationId, "PlacementOfferDeclined", "Offer declined", OfferStatus.Declined, null);
                break;
            case PlacementEvent.OfferExpired e:
                yield return ToHome(state, e.CqcLocationId, "PlacementOfferExpired", "Offer expired without an answer", OfferStatus.Expired, null);
                break;
            case PlacementEvent.OffersWithdrawn e:
                foreach (var home in e.CqcLocationIds)
                {
                    yield return ToHome(state, home, "PlacementOfferWithdrawn", $"Offer withdrawn: {e.Reason}", OfferStatus.Withdrawn, null);
                }

                break;
            case PlacementEvent.Unplaced e:
                // One notice for the referring team and the coordination centre, which brokers it by hand.
                yield return new Reaction.Notify(Note(
                    "PlacementUnplaced", Recipient.Org(details.ReferringOrg), state, $"No care home could take the {details.BedType} placement: {e.Reason}")
                    with { AlsoTo = [Recipient.Role("Coordinator")], Severity = Severity.Warning });

                break;
            case PlacementEvent.EscalatedPastRequiredBy e:
                var summary = $"Unplaced past its required-by date ({Iso(details.RequiredBy)}): a delayed discharge is blocking a hospital bed";

                // The referring team is told; the coordination centre gets an escalation it must acknowledge (rule 5),
                // or, with the rule off, this notice.
                var window = state.Policy.EscalationAcknowledgeWithin;
                yield return new Reaction.Notify(Note("PlacementEscalated", Recipient.Org(details.ReferringOrg), state, summary)
                    with { AlsoTo = window is null ? [Recipient.Role("Coordinator")] : null, Severity = Severity.Critical });
                if (window is { } acknowledgeWithin)
                {
                    yield return new Reaction.Send(EscalationWorkflow.Name, EscalationKey(state), new EscalationCommand.Raise(
                        EscalationRule.PlacementUnplacedPastRequiredBy, details.RequiredBy, id, $"Placement {id} is {summary.ToLowerInvariant()}",
                        new Dictionary<string, string>
                        {
                            ["placementId"] = id, ["referringOrg"] = details.ReferringOrg, ["bedType"] = Camel(details.BedType), ["requiredBy"] = Iso(details.RequiredBy),
                        },
                        [EscalationWorkflow.CoordinationCentre], acknowledgeWithin, e.At));
                }

                break;
            case PlacementEvent.Cancelled e:
                yield return ToTeam(state, "PlacementCancelled", "Placement cancelled");
                if (state.Escalated && state.Policy.EscalationAcknowledgeWithin is not null)
                {
                    yield return new Reaction.Send(EscalationWorkflow.Name, EscalationKey(state), new EscalationCommand.Resolve($"The placement was cancelled: {e.Reason}", e.At));
                }

                if (e.ReleasedCqcLocationId is { } bookedHome)
                {
                    yield return ToHome(state, bookedHome, "PlacementCancelled", "The booked placement was cancelled", OfferStatus.Withdrawn, null);
                }

                break;
            case PlacementEvent.Admitted e:
                yield return ToTeam(state, "PlacementAdmitted", "Patient admitted");
                break;
        }
    }

    private static IEnumerable<PlacementEvent> Start(PlacementCommand.Request c)
    {
        var requested = new PlacementEvent.Requested(c.PlacementId, c.Details, c.Candidates, c.Policy, c.At);
        var state = Evolve(PlacementState.Initial, requested);
        return [requested, .. NextRound(state, c.At)];
    }

    private static IEnumerable<PlacementEvent> Accept(PlacementCommand.Accept c, PlacementState state)
    {
        var offer = state.OpenOffer(c.CqcLocationId)
            ?? throw new CommandRejectedException($"There is no open offer to {c.CqcLocationId}: it was answered, expired or withdrawn.");
        if (c.At > offer.ExpiresAt)
        {
            throw new CommandRejectedException($"The offer to {c.CqcLocationId} expired at {offer.ExpiresAt:O}.");
        }

        var others = state.OpenOffers.Where(o => o.CqcLocationId != c.CqcLocationId).Select(o => o.CqcLocationId).ToList();
        PlacementEvent booked = new PlacementEvent.Booked(c.CqcLocationId, c.AdmissionDate, c.ContactName, c.At);
        return others.Count == 0 ? [booked] : [booked, new PlacementEvent.OffersWithdrawn(others, "Another home accepted.", c.At)];
    }

    /// <summary>Closes one offer; when that ends the round, the next round starts (or the placement is unplaced).</summary>
    private static IEnumerable<PlacementEvent> Close(PlacementState state, PlacementEvent closing, DateTimeOffset at)
    {
        var after = Evolve(state, closing);
        return after.OpenOffers.Any() ? [closing] : [closing, .. NextRound(after, at)];
    }

    private static IEnumerable<PlacementEvent> NextRound(PlacementState state, DateTimeOffset at)
    {
        var offered = state.Offers.Select(o => o.CqcLocationId).ToHashSet();
        var next = state.Candidates.Where(c => !offered.Contains(c.CqcLocationId)).Take(state.Policy.OffersPerRound).ToList();
        if (state.Round >= state.Policy.MaxRounds || next.Count == 0)
        {
            var reason = state.Candidates.Count == 0 ? "No care home matched the request."
                : next.Count == 0 ? "Every matching home declined or did not answer."
                : $"All {state.Policy.MaxRounds} offer rounds were declined or expired.";
            var unplaced = new PlacementEvent.Unplaced(reason, at);
            return PastRequiredBy(state.Details!, at) ? [unplaced, new PlacementEvent.EscalatedPastRequiredBy(state.Details!.RequiredBy, at)] : [unplaced];
        }

        var round = state.Round + 1;
        return [new PlacementEvent.OffersMade(round, next.Select(c => new Offer(c.CqcLocationId, c.Locality, round, at + state.Policy.ResponseWindow, OfferStatus.Open)).ToList())];
    }

    private static IEnumerable<PlacementEvent> Cancel(PlacementCommand.Cancel c, PlacementState state)
    {
        var open = state.OpenOffers.Select(o => o.CqcLocationId).ToList();
        var cancelled = new PlacementEvent.Cancelled(c.Reason, state.Booking?.CqcLocationId, c.At);
        return open.Count == 0 ? [cancelled] : [new PlacementEvent.OffersWithdrawn(open, "The placement was cancelled.", c.At), cancelled];
    }

    /// <summary>When an unplaced placement is next checked against its required-by date: the start of the day after it (London).</summary>
    public static DateTimeOffset EndOfRequiredBy(PlacementRequest details) => London.StartOf(details.RequiredBy.AddDays(1));

    private static bool PastRequiredBy(PlacementRequest details, DateTimeOffset at) => London.Today(at) > details.RequiredBy;

    /// <summary>The rule-5 escalation of a placement: one per placement, dated by its required-by date.</summary>
    public static string EscalationKey(PlacementState state) =>
        EscalationWorkflow.Key(state.Details!.RequiredBy, EscalationRule.PlacementUnplacedPastRequiredBy, state.PlacementId);

    private static List<Offer> Set(IReadOnlyList<Offer> offers, IReadOnlyCollection<string> homes, OfferStatus status) =>
        offers.Select(o => o.Status == OfferStatus.Open && homes.Contains(o.CqcLocationId) ? o with { Status = status } : o).ToList();

    /// <summary>To the home's brokers: what they need to decide, never who the patient is.</summary>
    private static Reaction.Notify ToHome(PlacementState state, string cqcLocationId, string type, string title, OfferStatus status, Offer? offer)
    {
        var data = new Dictionary<string, string>
        {
            ["placementId"] = state.PlacementId,
            ["cqcLocationId"] = cqcLocationId,
            ["offerStatus"] = Camel(status),
            ["round"] = (offer?.Round ?? state.Offers.LastOrDefault(o => o.CqcLocationId == cqcLocationId)?.Round ?? state.Round).ToString(CultureInfo.InvariantCulture),
            ["pathway"] = state.Details!.Pathway.ToString(),
            ["bedType"] = Camel(state.Details.BedType),
            ["requiredBy"] = Iso(state.Details.RequiredBy),
        };
        if (offer is not null)
        {
            data["locality"] = offer.Locality;
            data["expiresAt"] = offer.ExpiresAt.ToString("O", CultureInfo.InvariantCulture);
        }

        return new Reaction.Notify(new Notification(type, Recipient.Org(cqcLocationId), title, state.PlacementId, data, "/offers"));
    }

    /// <summary>To the referring discharge team.</summary>
    private static Reaction.Notify ToTeam(PlacementState state, string type, string title, params (string Key, string Value)[] extra) =>
        new(Note(type, Recipient.Org(state.Details!.ReferringOrg), state, title, extra));

    private static Notification Note(string type, Recipient to, PlacementState state, string title, params (string Key, string Value)[] extra)
    {
        var data = new Dictionary<string, string>
        {
            ["placementId"] = state.PlacementId,
            ["referringOrg"] = state.Details!.ReferringOrg,
            ["pathway"] = state.Details.Pathway.ToString(),
            ["bedType"] = Camel(state.Details.BedType),
            ["requiredBy"] = Iso(state.Details.RequiredBy),
        };
        foreach (var (key, value) in extra)
        {
            data[key] = value;
        }

        return new Notification(type, to, title, state.PlacementId, data, $"/placements/{state.PlacementId}");
    }

    private static string Phase(PlacementPhase phase) => Camel(phase);

    private static string Camel<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
