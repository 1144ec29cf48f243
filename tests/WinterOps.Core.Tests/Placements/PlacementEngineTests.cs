using System.Text.Json;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Tests.Workflows;
using WinterOps.Core.Workflows;
using static WinterOps.Core.Tests.Placements.PlacementData;

namespace WinterOps.Core.Tests.Placements;

/// <summary>
/// The placement and care-home workflows through the real command handler and in-memory store:
/// states, events and queued commands survive their stored JSON form.
/// </summary>
public sealed class PlacementEngineTests
{
    private const string Cqc = "1-4000000001";
    private readonly InMemoryEventStore _store = new();
    private readonly CommandHandler _handler;
    private int _ids;

    public PlacementEngineTests() =>
        _handler = new CommandHandler(_store, new WorkflowCatalog([PlacementWorkflow.Definition, CareHomeWorkflow.Definition]), new RecordingOutboxSignal());

    private CommandContext By(DateTimeOffset at) => new($"cmd-{++_ids}", Actor.System("tests"), at);

    private static CareHomeDetails HomeDetails() =>
        new("Synthetic Lodge", "Hove", [BedType.Nursing, BedType.ResidentialDementia], [ClinicalNeed.Dialysis], CqcRating.Good, [new BrokerContact("Broker One", null, null)]);

    private static Dictionary<BedType, BedCount> Beds() => new()
    {
        [BedType.Nursing] = new BedCount(30, 28, 1, 2),
        [BedType.ResidentialDementia] = new BedCount(12, 11, 0, 1),
    };

    private async Task<List<QueuedCommand>> QueuedAsync(string streamId) =>
        (await _store.ReadPendingOutboxAsync(streamId, CancellationToken.None))
            .Where(o => o.Kind == OutboxKinds.Command)
            .Select(o => JsonSerializer.Deserialize<QueuedCommand>(o.Payload, WorkflowJson.Options)!)
            .ToList();

    [Fact]
    public async Task CareHome_ReservedThroughTheHandler_ReloadsWithItsBedsAndReservation()
    {
        var home = CareHomeWorkflow.Definition;
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.SetDetails(Cqc, HomeDetails()), By(T0));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.ReportVacancies(T0, Beds()), By(T0));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.Reserve(Id, BedType.Nursing, T0.AddHours(1)), By(T0.AddHours(1)));

        var (state, head) = await _handler.LoadAsync(home, home.StreamId(Cqc), CancellationToken.None);
        var loaded = state.ShouldBeOfType<CareHomeState.Registered>();
        head.ShouldNotBeNull().StateType.ShouldBe("RegisteredV2");
        loaded.Details.ShouldBe(HomeDetails());
        loaded.Beds[BedType.Nursing].ShouldBe(new BedCount(30, 28, 1, 2));
        loaded.Beds[BedType.ResidentialDementia].ShouldBe(new BedCount(12, 11, 0, 1));
        loaded.Free(BedType.Nursing).ShouldBe(1);
        loaded.Reservations.ShouldBe([new Reservation(Id, BedType.Nursing, false)]);

        // The same report again, against the reloaded snapshot: recognised as a repeat.
        var repeat = await _handler.HandleAsync(home, Cqc, new CareHomeCommand.ReportVacancies(T0, Beds()), By(T0.AddHours(2)));
        repeat.NewEvents.ShouldBeEmpty();

        // The reservation's check goes to its placement, the source of truth, once the timeout has passed.
        var due = T0.AddHours(1) + CareHomeWorkflow.UnconfirmedReservationTimeout;
        var queued = (await QueuedAsync(home.StreamId(Cqc))).ShouldHaveSingleItem();
        queued.ShouldSatisfyAllConditions(
            q => q.Workflow.ShouldBe(PlacementWorkflow.Name),
            q => q.Key.ShouldBe(Id),
            q => q.CommandType.ShouldBe("VerifyReservation"),
            q => q.DueAt.ShouldBe(due));
        PlacementWorkflow.Definition.Commands.Deserialize(queued.CommandType, queued.Command)
            .ShouldBe(new PlacementCommand.VerifyReservation(Cqc, due));
    }

    [Fact]
    public async Task CareHome_AdmittedThroughTheHandler_KeepsTheAdmissionAcrossARepeatedReportAndReload()
    {
        var home = CareHomeWorkflow.Definition;
        var admittedAt = T0.AddHours(3);
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.SetDetails(Cqc, HomeDetails()), By(T0));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.ReportVacancies(T0, Beds()), By(T0));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.Reserve(Id, BedType.Nursing, T0.AddHours(1)), By(T0.AddHours(1)));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.Confirm(Id), By(T0.AddHours(1)));
        await _handler.HandleAsync(home, Cqc, new CareHomeCommand.Admit(Id, admittedAt), By(admittedAt));

        var repeat = await _handler.HandleAsync(home, Cqc, new CareHomeCommand.ReportVacancies(T0, Beds()), By(T0.AddHours(4)));
        repeat.NewEvents.ShouldBeEmpty();

        var (state, _) = await _handler.LoadAsync(home, home.StreamId(Cqc), CancellationToken.None);
        var loaded = state.ShouldBeOfType<CareHomeState.Registered>();
        loaded.Reported[BedType.Nursing].ShouldBe(new BedCount(30, 28, 1, 2));
        loaded.AdmittedSinceReport.ShouldBe([new Admission(Id, BedType.Nursing, admittedAt)]);
        loaded.Beds[BedType.Nursing].ShouldBe(new BedCount(30, 29, 1, 1));
        loaded.Free(BedType.Nursing).ShouldBe(1);
        loaded.Reservations.ShouldBeEmpty();
    }

    [Fact]
    public async Task Placement_RequestedAndAcceptedThroughTheHandler_QueuesDeadlinesThenConfirmAndReleases()
    {
        var placement = PlacementWorkflow.Definition;
        var requested = await _handler.HandleAsync(placement, Id, Request(), By(T0));
        requested.NewEvents.Count.ShouldBe(2);

        var repeat = await _handler.HandleAsync(placement, Id, Request(at: T0.AddMinutes(1)), By(T0.AddMinutes(1)));
        repeat.NewEvents.ShouldBeEmpty();
        repeat.Version.ShouldBe(2);

        var deadlines = await QueuedAsync(placement.StreamId(Id));
        deadlines.Select(q => (q.CommandType, q.Key, q.DueAt)).ShouldBe([
            ("ExpireOffer", Id, T0 + Policy.ResponseWindow),
            ("ExpireOffer", Id, T0 + Policy.ResponseWindow),
        ]);
        placement.Commands.Deserialize(deadlines[1].CommandType, deadlines[1].Command)
            .ShouldBe(new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, T0 + Policy.ResponseWindow));

        var booked = await _handler.HandleAsync(placement, Id, new PlacementCommand.Accept(H2.CqcLocationId, AdmissionDate, Contact, T0.AddHours(1)), By(T0.AddHours(1)));
        booked.State.Phase.ShouldBe(PlacementPhase.Booked);

        var (loaded, _) = await _handler.LoadAsync(placement, placement.StreamId(Id), CancellationToken.None);
        loaded.ShouldSatisfyAllConditions(
            s => s.Phase.ShouldBe(PlacementPhase.Booked),
            s => s.Booking.ShouldBe(new Booking(H2.CqcLocationId, AdmissionDate, Contact)),
            s => s.Details.ShouldNotBeNull().PreferredLocalities.ShouldBe(["Brighton", "Hove"]),
            s => s.Candidates.Count.ShouldBe(5),
            s => s.Offers.Select(o => o.Status).ShouldBe([OfferStatus.Withdrawn, OfferStatus.Accepted]));

        var toHomes = (await QueuedAsync(placement.StreamId(Id))).Where(q => q.Workflow == CareHomeWorkflow.Name).ToList();
        toHomes.Select(q => (q.CommandType, q.Key)).ShouldBe([("ConfirmReservation", H2.CqcLocationId), ("ReleaseReservation", H1.CqcLocationId)]);
        toHomes.ShouldAllBe(q => q.DueAt == null);
    }

    [Fact]
    public void EveryPlacementAndCareHomeEvent_RoundTripsThroughItsStoredForm()
    {
        PlacementEvent[] placementEvents =
        [
            .. Unplaced(),
            new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, T0.AddDays(3)),
            new PlacementEvent.Booked(H1.CqcLocationId, AdmissionDate, Contact, T0),
            new PlacementEvent.OfferExpired(H1.CqcLocationId, 1, T0),
            new PlacementEvent.OffersWithdrawn([H1.CqcLocationId, H2.CqcLocationId], "Another home accepted.", T0),
            new PlacementEvent.Cancelled("Synthetic", H1.CqcLocationId, T0),
            new PlacementEvent.Admitted(AdmissionDate, T0),
            new PlacementEvent.ReservationChecked(H1.CqcLocationId, true, T0),
            new PlacementEvent.ReservationChecked(H2.CqcLocationId, false, T0),
        ];
        CareHomeEvent[] homeEvents =
        [
            new CareHomeEvent.Registered(Cqc, HomeDetails()),
            new CareHomeEvent.DetailsChanged(HomeDetails() with { CqcRating = CqcRating.Outstanding }),
            new CareHomeEvent.VacanciesReported(T0, Beds()),
            new CareHomeEvent.BedReserved(Id, BedType.ResidentialDementia, T0),
            new CareHomeEvent.ReservationConfirmed(Id),
            new CareHomeEvent.ReservationReleased(Id, BedType.ResidentialDementia, "Synthetic"),
            new CareHomeEvent.PatientAdmitted(Id, BedType.ResidentialDementia, T0.AddHours(2)),
        ];

        var placementNames = PlacementWorkflow.Definition.Events;
        DeciderSpec.Stored(placementNames, placementEvents.Select(e => placementNames.Deserialize(placementNames.NameOf(e), placementNames.Serialize(e))))
            .ShouldBe(DeciderSpec.Stored(placementNames, placementEvents));
        var homeNames = CareHomeWorkflow.Definition.Events;
        DeciderSpec.Stored(homeNames, homeEvents.Select(e => homeNames.Deserialize(homeNames.NameOf(e), homeNames.Serialize(e))))
            .ShouldBe(DeciderSpec.Stored(homeNames, homeEvents));

        // And folding the read-back events gives the same beds as folding the originals.
        var reread = CareHomeWorkflow.Definition.Fold(homeEvents.Select(e => homeNames.Deserialize(homeNames.NameOf(e), homeNames.Serialize(e))));
        var original = CareHomeWorkflow.Definition.Fold(homeEvents).ShouldBeOfType<CareHomeState.Registered>();
        var rereadHome = reread.ShouldBeOfType<CareHomeState.Registered>();
        rereadHome.Beds.ShouldBe(original.Beds, ignoreOrder: true);
        rereadHome.AdmittedSinceReport.ShouldBe(original.AdmittedSinceReport);
        original.AdmittedSinceReport.ShouldBe([new Admission(Id, BedType.ResidentialDementia, T0.AddHours(2))]);
        original.Beds[BedType.ResidentialDementia].ShouldBe(new BedCount(12, 12, 0, 0)); // the admission took the reported vacancy

        // The state's stored form keeps the figures as reported and the admissions since; the derived beds are not stored.
        var stateNames = CareHomeWorkflow.Definition.States;
        var json = stateNames.Serialize(original);
        json.ShouldNotContain("\"beds\"");
        var restored = stateNames.Deserialize(stateNames.NameOf(original), json).ShouldBeOfType<CareHomeState.Registered>();
        restored.Reported.ShouldBe(original.Reported, ignoreOrder: true);
        restored.AdmittedSinceReport.ShouldBe(original.AdmittedSinceReport);
        restored.Beds.ShouldBe(original.Beds, ignoreOrder: true);
    }
}
