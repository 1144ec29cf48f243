using WinterOps.Core.Workflows;

namespace WinterOps.Core.CareHomes;

/// <summary>The bed types of the Capacity Tracker that placements ask for.</summary>
public enum BedType
{
    Residential,
    Nursing,
    ResidentialDementia,
    NursingDementia,
}

/// <summary>CQC overall ratings, best first.</summary>
public enum CqcRating
{
    Outstanding,
    Good,
    RequiresImprovement,
    Inadequate,
    NotYetRated,
}

/// <summary>Clinical needs a home may be unable to meet.</summary>
public enum ClinicalNeed
{
    Oxygen,
    Bariatric,
    ChallengingBehaviour,
    EndOfLife,
    Tracheostomy,
    Dialysis,
}

/// <summary>A person who accepts or declines offers for the home.</summary>
public sealed record BrokerContact(string Name, string? EntraUserId, string? Phone);

/// <summary>What the coordination centre records about a care home.</summary>
public sealed record CareHomeDetails(
    string Name, string Locality, IReadOnlyList<BedType> BedTypes, IReadOnlyList<ClinicalNeed> ClinicalExclusions, CqcRating CqcRating,
    IReadOnlyList<BrokerContact> BrokerContacts)
{
    public bool Equals(CareHomeDetails? other) =>
        other is not null && Name == other.Name && Locality == other.Locality && BedTypes.SequenceEqual(other.BedTypes)
        && ClinicalExclusions.SequenceEqual(other.ClinicalExclusions) && CqcRating == other.CqcRating && BrokerContacts.SequenceEqual(other.BrokerContacts);

    public override int GetHashCode() => HashCode.Combine(Name, Locality, CqcRating, BedTypes.Count);
}

/// <summary>One bed type's figures in the NHS Capacity Tracker shape.</summary>
public sealed record BedCount(int MaxCapacity, int Occupied, int VacantReserved, int VacantAccepting);

/// <summary>A bed WinterOps holds for a placement: from its home's acceptance until admission, cancellation or release.</summary>
public sealed record Reservation(string PlacementId, BedType BedType);

/// <summary>An admission since the last vacancy report: the home's next report will count it as occupied.</summary>
public sealed record Admission(string PlacementId, BedType BedType, DateTimeOffset At);

public abstract record CareHomeCommand
{
    private CareHomeCommand()
    {
    }

    public sealed record SetDetails(string CqcLocationId, CareHomeDetails Details) : CareHomeCommand;

    public sealed record ReportVacancies(DateTimeOffset AsOf, IReadOnlyDictionary<BedType, BedCount> Beds) : CareHomeCommand;

    /// <summary>Hold a bed of <paramref name="BedType"/> for a placement whose offer the home is accepting.</summary>
    public sealed record Reserve(string PlacementId, BedType BedType, DateTimeOffset At) : CareHomeCommand;

    /// <summary>Give the bed back (the placement went elsewhere or was cancelled).</summary>
    public sealed record Release(string PlacementId, string Reason) : CareHomeCommand;

    /// <summary>The patient arrived: the reserved bed becomes an occupied one.</summary>
    public sealed record Admit(string PlacementId, DateTimeOffset At) : CareHomeCommand;
}

public abstract record CareHomeEvent
{
    private CareHomeEvent()
    {
    }

    /// <summary>The coordination centre added the home to the registry.</summary>
    public sealed record Registered(string CqcLocationId, CareHomeDetails Details) : CareHomeEvent;

    /// <summary>The coordination centre changed the home's details (all of them, as now in force).</summary>
    public sealed record DetailsChanged(CareHomeDetails Details) : CareHomeEvent;

    /// <summary>The home reported its vacancies (Capacity Tracker figures, as of a time).</summary>
    public sealed record VacanciesReported(DateTimeOffset AsOf, IReadOnlyDictionary<BedType, BedCount> Beds) : CareHomeEvent;

    /// <summary>A bed was held for a placement while its acceptance is booked.</summary>
    public sealed record BedReserved(string PlacementId, BedType BedType, DateTimeOffset At) : CareHomeEvent;

    /// <summary>A held bed was given back (placement went elsewhere, was cancelled, or the booking never completed).</summary>
    public sealed record ReservationReleased(string PlacementId, BedType BedType, string Reason) : CareHomeEvent;

    /// <summary>The patient was admitted: one more occupied bed, one fewer vacant, until the home's next report counts it.</summary>
    public sealed record PatientAdmitted(string PlacementId, BedType BedType, DateTimeOffset At) : CareHomeEvent;
}

public abstract record CareHomeState
{
    private CareHomeState()
    {
    }

    public sealed record None : CareHomeState;

    /// <summary>
    /// A registered home: its details, its vacancies as last reported, the admissions WinterOps
    /// recorded since that report, and the beds WinterOps holds. A bed type's free beds = reported
    /// vacant-accepting minus admissions since the report minus beds held.
    /// </summary>
    public sealed record Registered(
        string CqcLocationId,
        CareHomeDetails Details,
        DateTimeOffset? VacanciesAsOf,
        IReadOnlyDictionary<BedType, BedCount> Reported,
        IReadOnlyList<Reservation> Reservations,
        IReadOnlyList<Admission> AdmittedSinceReport) : CareHomeState
    {
        public int Held(BedType bedType) => Reservations.Count(r => r.BedType == bedType);

        /// <summary>The figures now: as reported, with the admissions since moved from vacant to occupied.</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public IReadOnlyDictionary<BedType, BedCount> Beds => Reported.ToDictionary(kv => kv.Key, kv =>
        {
            var admitted = Math.Min(kv.Value.VacantAccepting, AdmittedSinceReport.Count(a => a.BedType == kv.Key));
            return kv.Value with { Occupied = kv.Value.Occupied + admitted, VacantAccepting = kv.Value.VacantAccepting - admitted };
        });

        public int Free(BedType bedType) =>
            Beds.TryGetValue(bedType, out var count) ? Math.Max(0, count.VacantAccepting - Held(bedType)) : 0;

        public Reservation? ReservationFor(string placementId) => Reservations.FirstOrDefault(r => r.PlacementId == placementId);
    }
}

/// <summary>
/// The rules of the care-home registry and its vacancies, as pure functions: a command decides events, events
/// evolve the state. The state is stored as one row per home (<c>CareHomeStore</c>), written under its ETag, so a
/// reservation is consistent under concurrency: the last bed goes to one placement.
/// </summary>
public static class CareHomeRules
{
    public static IEnumerable<CareHomeEvent> Decide(CareHomeCommand command, CareHomeState state) =>
        (command, state) switch
        {
            (CareHomeCommand.SetDetails c, CareHomeState.None) => [new CareHomeEvent.Registered(c.CqcLocationId, c.Details)],
            (CareHomeCommand.SetDetails c, CareHomeState.Registered s) => s.Details.Equals(c.Details) ? [] : [new CareHomeEvent.DetailsChanged(c.Details)],
            (_, CareHomeState.None) => throw new CommandRejectedException("No care home has this CQC location id."),

            (CareHomeCommand.ReportVacancies c, CareHomeState.Registered s) when s.VacanciesAsOf is { } last && c.AsOf < last =>
                throw new CommandRejectedException($"These vacancies are as of {c.AsOf:O}, older than the figures already reported as of {last:O}."),
            (CareHomeCommand.ReportVacancies c, CareHomeState.Registered s) when s.VacanciesAsOf == c.AsOf && SameBeds(s.Reported, c.Beds) => [],
            (CareHomeCommand.ReportVacancies c, CareHomeState.Registered) => [new CareHomeEvent.VacanciesReported(c.AsOf, c.Beds)],

            (CareHomeCommand.Reserve c, CareHomeState.Registered s) when s.ReservationFor(c.PlacementId) is not null => [],
            (CareHomeCommand.Reserve c, CareHomeState.Registered s) when s.Free(c.BedType) > 0 => [new CareHomeEvent.BedReserved(c.PlacementId, c.BedType, c.At)],
            (CareHomeCommand.Reserve c, CareHomeState.Registered) => throw new CommandRejectedException($"The home has no free {c.BedType} bed."),

            (CareHomeCommand.Release c, CareHomeState.Registered s) when s.ReservationFor(c.PlacementId) is { } r =>
                [new CareHomeEvent.ReservationReleased(c.PlacementId, r.BedType, c.Reason)],
            (CareHomeCommand.Release, CareHomeState.Registered) => [],

            (CareHomeCommand.Admit c, CareHomeState.Registered s) when s.ReservationFor(c.PlacementId) is { } r =>
                [new CareHomeEvent.PatientAdmitted(c.PlacementId, r.BedType, c.At)],
            (CareHomeCommand.Admit, CareHomeState.Registered) => [],

            _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to this care home."),
        };

    public static CareHomeState Evolve(CareHomeState state, CareHomeEvent @event) =>
        (state, @event) switch
        {
            (_, CareHomeEvent.Registered e) => new CareHomeState.Registered(e.CqcLocationId, e.Details, null, new Dictionary<BedType, BedCount>(), [], []),
            (CareHomeState.Registered s, CareHomeEvent.DetailsChanged e) => s with { Details = e.Details },
            // The report counts admissions up to its time; later ones are still to be counted.
            (CareHomeState.Registered s, CareHomeEvent.VacanciesReported e) => s with
            {
                VacanciesAsOf = e.AsOf, Reported = e.Beds, AdmittedSinceReport = s.AdmittedSinceReport.Where(a => a.At > e.AsOf).ToList(),
            },
            (CareHomeState.Registered s, CareHomeEvent.BedReserved e) => s with { Reservations = [.. s.Reservations, new Reservation(e.PlacementId, e.BedType)] },
            (CareHomeState.Registered s, CareHomeEvent.ReservationReleased e) => s with { Reservations = s.Reservations.Where(r => r.PlacementId != e.PlacementId).ToList() },
            (CareHomeState.Registered s, CareHomeEvent.PatientAdmitted e) => s with
            {
                Reservations = s.Reservations.Where(r => r.PlacementId != e.PlacementId).ToList(),

                // An admission before the report in force is already counted in it.
                AdmittedSinceReport = s.VacanciesAsOf is { } asOf && e.At <= asOf
                    ? s.AdmittedSinceReport
                    : [.. s.AdmittedSinceReport, new Admission(e.PlacementId, e.BedType, e.At)],
            },
            _ => state,
        };

    private static bool SameBeds(IReadOnlyDictionary<BedType, BedCount> a, IReadOnlyDictionary<BedType, BedCount> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && other == kv.Value);
}
