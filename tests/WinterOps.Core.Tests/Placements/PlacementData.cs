using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;

namespace WinterOps.Core.Tests.Placements;

/// <summary>
/// Synthetic placement data. The patient reference, NHS number and needs summary are distinctive
/// strings so a leak into any notification is found by a plain substring search.
/// </summary>
public static class PlacementData
{
    /// <summary>The placement rules under Given/When/Then: events compared under their stored names, reactions as the orchestration runs them.</summary>
    public static readonly DeciderSpec<PlacementState, PlacementCommand, PlacementEvent> Spec =
        DeciderSpec.For<PlacementState, PlacementCommand, PlacementEvent>(
            PlacementState.Initial, PlacementWorkflow.Decide, PlacementWorkflow.Evolve, e => DeciderSpec.Stored(PlacementWorkflow.Events, [e]).Single(), PlacementWorkflow.React);

    public const string Id = "PL-20261201-0001";
    public const string PatientRef = "PSEUDOREF-QX7Z-0042";

    /// <summary>A published synthetic test number (valid Modulus 11), never a real patient's.</summary>
    public const string Nhs = "9434765919";

    public const string Needs = "NEEDS-SENTINEL hoist transfer, overnight PEG feed, falls risk";
    public const string Referrer = "RXH01";

    public static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    public static readonly DateOnly RequiredBy = new(2026, 12, 3);

    /// <summary>Two homes per round, four-hour window, two rounds: small enough to walk through every round.</summary>
    public static readonly OfferPolicy Policy = new(2, TimeSpan.FromHours(4), 2);

    public static readonly Candidate H1 = new("1-1000000001", "Brighton");
    public static readonly Candidate H2 = new("1-1000000002", "Brighton");
    public static readonly Candidate H3 = new("1-1000000003", "Hove");
    public static readonly Candidate H4 = new("1-1000000004", "Hove");
    public static readonly Candidate H5 = new("1-1000000005", "Lewes");

    public static Candidate[] Five => [H1, H2, H3, H4, H5];

    public static PlacementRequest Details(DateOnly? requiredBy = null) => new(
        PatientRef, Nhs, Referrer, Pathway.P2, BedType.Nursing, FundingRoute.Chc, ["Brighton", "Hove"],
        requiredBy ?? RequiredBy, Needs, [ClinicalNeed.Oxygen]);

    public static PlacementEvent.Requested Requested(
        IReadOnlyList<Candidate>? candidates = null, OfferPolicy? policy = null, PlacementRequest? details = null, DateTimeOffset? at = null) =>
        new(Id, details ?? Details(), candidates ?? Five, policy ?? Policy, at ?? T0);

    public static PlacementCommand.Request Request(
        IReadOnlyList<Candidate>? candidates = null, OfferPolicy? policy = null, PlacementRequest? details = null, DateTimeOffset? at = null) =>
        new(Id, details ?? Details(), candidates ?? Five, policy ?? Policy, at ?? T0);

    /// <summary>An offer round made at <paramref name="at"/>, each offer open until the window ends.</summary>
    public static PlacementEvent.OffersMade Round(int round, DateTimeOffset at, params Candidate[] homes) =>
        new(round, homes.Select(h => new Offer(h.CqcLocationId, h.Locality, round, at + Policy.ResponseWindow, OfferStatus.Open)).ToList());

    /// <summary>Requested at T0 with round 1 offered to H1 and H2.</summary>
    public static PlacementEvent[] Offered() => [Requested(), Round(1, T0, H1, H2)];

    /// <summary>Offered, then H1 accepted an hour in (H2 withdrawn).</summary>
    public static PlacementEvent[] Booked() =>
    [
        .. Offered(),
        new PlacementEvent.Booked(H1.CqcLocationId, AdmissionDate, Contact, T0.AddHours(1)),
        new PlacementEvent.OffersWithdrawn([H2.CqcLocationId], "Another home accepted.", T0.AddHours(1)),
    ];

    /// <summary>Every home of both rounds declined: unplaced at T0 + 3h, before required-by.</summary>
    public static PlacementEvent[] Unplaced() =>
    [
        .. Offered(),
        new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T0.AddHours(1)),
        new PlacementEvent.OfferDeclined(H2.CqcLocationId, DeclineReason.NoBedAvailable, null, T0.AddHours(1)),
        Round(2, T0.AddHours(1), H3, H4),
        new PlacementEvent.OfferDeclined(H3.CqcLocationId, DeclineReason.CannotMeetNeeds, null, T0.AddHours(3)),
        new PlacementEvent.OfferDeclined(H4.CqcLocationId, DeclineReason.CannotMeetNeeds, null, T0.AddHours(3)),
        new PlacementEvent.Unplaced("All 2 offer rounds were declined or expired.", T0.AddHours(3)),
    ];

    public static readonly DateOnly AdmissionDate = new(2026, 12, 2);
    public const string Contact = "Broker One";
}
