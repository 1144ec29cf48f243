using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using static WinterOps.Core.Tests.Placements.PlacementData;

namespace WinterOps.Core.Tests.Placements;

/// <summary>The placement decider: every transition, Given(history).When(command).Then(events).</summary>
public sealed class PlacementDeciderTests
{
    private static readonly DeciderSpec<PlacementState, PlacementCommand, PlacementEvent> Placement = DeciderSpec.For(PlacementWorkflow.Definition);
    private static readonly DateTimeOffset T1 = T0.AddHours(1);
    private static readonly DateTimeOffset Expiry1 = T0 + Policy.ResponseWindow;

    private static PlacementCommand.Accept Accept(Candidate home, DateTimeOffset at) => new(home.CqcLocationId, AdmissionDate, Contact, at);

    private static PlacementCommand.Decline Decline(Candidate home, DateTimeOffset at) => new(home.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", at);

    // --- Request ---------------------------------------------------------------------------------

    [Fact]
    public void Request_WithCandidates_OffersTheTopHomesInRoundOne()
    {
        Placement.Given()
            .When(Request())
            .Then(
                Requested(),
                new PlacementEvent.OffersMade(1, [
                    new Offer(H1.CqcLocationId, "Brighton", 1, T0.AddHours(4), OfferStatus.Open),
                    new Offer(H2.CqcLocationId, "Brighton", 1, T0.AddHours(4), OfferStatus.Open),
                ]))
            .State.ShouldSatisfyAllConditions(
                s => s.Phase.ShouldBe(PlacementPhase.AwaitingResponses),
                s => s.Round.ShouldBe(1),
                s => s.PlacementId.ShouldBe(Id),
                s => s.OpenOffers.Select(o => o.CqcLocationId).ShouldBe([H1.CqcLocationId, H2.CqcLocationId]));
    }

    [Fact]
    public void Request_WithTheDefaultPolicy_OffersThreeHomesForFourHours()
    {
        var when = Placement.Given().When(Request(policy: OfferPolicy.Default));

        var offers = when.Events.OfType<PlacementEvent.OffersMade>().Single().Offers;
        offers.Select(o => o.CqcLocationId).ShouldBe([H1.CqcLocationId, H2.CqcLocationId, H3.CqcLocationId]);
        offers.ShouldAllBe(o => o.ExpiresAt == T0.AddHours(4) && o.Round == 1 && o.Status == OfferStatus.Open);
    }

    [Fact]
    public void Request_WithFewerCandidatesThanARound_OffersThemAll()
    {
        Placement.Given()
            .When(Request(candidates: [H3]))
            .Then(Requested(candidates: [H3]), Round(1, T0, H3));
    }

    [Fact]
    public void Request_WithNoCandidates_IsUnplacedAtOnce()
    {
        Placement.Given()
            .When(Request(candidates: []))
            .Then(Requested(candidates: []), new PlacementEvent.Unplaced("No care home matched the request.", T0))
            .State.Phase.ShouldBe(PlacementPhase.Unplaced);
    }

    [Fact]
    public void Request_WithNoCandidatesAfterRequiredBy_IsUnplacedAndEscalated()
    {
        var late = Details(requiredBy: new DateOnly(2026, 11, 30));

        Placement.Given()
            .When(Request(candidates: [], details: late))
            .Then(
                Requested(candidates: [], details: late),
                new PlacementEvent.Unplaced("No care home matched the request.", T0),
                new PlacementEvent.EscalatedPastRequiredBy(new DateOnly(2026, 11, 30), T0))
            .State.Escalated.ShouldBeTrue();
    }

    [Fact]
    public void Request_RepeatedWithTheSameId_YieldsNoEvents()
    {
        Placement.Given(Offered())
            .When(Request(at: T1))
            .Then();
    }

    [Fact]
    public void Request_WithAnotherIdOnAnExistingPlacement_IsRejected()
    {
        Placement.Given(Offered())
            .When(Request() with { PlacementId = "PL-OTHER" })
            .ThenRejected();
    }

    // --- Accept ----------------------------------------------------------------------------------

    [Fact]
    public void Accept_OpenOffer_BooksAndWithdrawsTheOtherOpenOffers()
    {
        Placement.Given(Offered())
            .When(Accept(H1, T1))
            .Then(
                new PlacementEvent.Booked(H1.CqcLocationId, AdmissionDate, Contact, T1),
                new PlacementEvent.OffersWithdrawn([H2.CqcLocationId], "Another home accepted.", T1))
            .State.ShouldSatisfyAllConditions(
                s => s.Phase.ShouldBe(PlacementPhase.Booked),
                s => s.Booking.ShouldBe(new Booking(H1.CqcLocationId, AdmissionDate, Contact)),
                s => s.Offers.Select(o => (o.CqcLocationId, o.Status)).ShouldBe([(H1.CqcLocationId, OfferStatus.Accepted), (H2.CqcLocationId, OfferStatus.Withdrawn)]));
    }

    [Fact]
    public void Accept_TheLastOpenOffer_BooksWithNothingToWithdraw()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(Accept(H2, T1.AddMinutes(5)))
            .Then(new PlacementEvent.Booked(H2.CqcLocationId, AdmissionDate, Contact, T1.AddMinutes(5)))
            .State.Offers.Select(o => o.Status).ShouldBe([OfferStatus.Declined, OfferStatus.Accepted]);
    }

    [Fact]
    public void Accept_InTheSecondRound_WithdrawsOnlyThatRoundsOpenOffers()
    {
        var t2 = T0.AddHours(2);
        Placement.Given([
                .. Offered(),
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1),
                new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, T1),
                Round(2, T1, H3, H4),
            ])
            .When(Accept(H4, t2))
            .Then(
                new PlacementEvent.Booked(H4.CqcLocationId, AdmissionDate, Contact, t2),
                new PlacementEvent.OffersWithdrawn([H3.CqcLocationId], "Another home accepted.", t2));
    }

    [Fact]
    public void Accept_AtTheExactMomentTheOfferExpires_IsAccepted()
    {
        Placement.Given(Offered())
            .When(Accept(H2, Expiry1))
            .Then(
                new PlacementEvent.Booked(H2.CqcLocationId, AdmissionDate, Contact, Expiry1),
                new PlacementEvent.OffersWithdrawn([H1.CqcLocationId], "Another home accepted.", Expiry1));
    }

    [Fact]
    public void Accept_AfterTheOffersExpiresAt_IsRefused()
    {
        // The deadline timer has not run yet: the offer is still open in the state, but out of time.
        Placement.Given(Offered())
            .When(Accept(H1, Expiry1.AddSeconds(1)))
            .ThenRejected()
            .Message.ShouldContain("expired");
    }

    [Fact]
    public void Accept_AfterWithdrawal_IsRefused()
    {
        // H2's offer was withdrawn when H1 accepted.
        Placement.Given(Booked())
            .When(Accept(H2, T1.AddMinutes(1)))
            .ThenRejected();
    }

    [Fact]
    public void Accept_AfterWithdrawalByCancellation_IsRefused()
    {
        Placement.Given([
                .. Offered(),
                new PlacementEvent.OffersWithdrawn([H1.CqcLocationId, H2.CqcLocationId], "The placement was cancelled.", T1),
                new PlacementEvent.Cancelled("Patient no longer needs a placement", null, T1),
            ])
            .When(Accept(H1, T1.AddMinutes(1)))
            .ThenRejected();
    }

    [Fact]
    public void Accept_AfterDecline_IsRefused()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(Accept(H1, T1.AddMinutes(1)))
            .ThenRejected()
            .Message.ShouldContain(H1.CqcLocationId);
    }

    [Fact]
    public void Accept_AfterExpiry_IsRefused()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferExpired(H1.CqcLocationId, 1, Expiry1)])
            .When(Accept(H1, Expiry1))
            .ThenRejected();
    }

    [Fact]
    public void Accept_ByACandidateNotYetOffered_IsRefused()
    {
        Placement.Given(Offered())
            .When(Accept(H3, T1))
            .ThenRejected();
    }

    [Fact]
    public void Accept_ByAHomeThatIsNoCandidate_IsRefused()
    {
        Placement.Given(Offered())
            .When(new PlacementCommand.Accept("1-9999999999", AdmissionDate, Contact, T1))
            .ThenRejected();
    }

    [Fact]
    public void Accept_WhenAlreadyBooked_IsRefused()
    {
        // Even the booked home's own repeat: a retried request is answered by command id, not by the decider.
        Placement.Given(Booked())
            .When(Accept(H1, T1.AddMinutes(1)))
            .ThenRejected()
            .Message.ShouldContain("already booked");
    }

    [Fact]
    public void Accept_WhenUnplaced_IsRefused()
    {
        Placement.Given(Unplaced())
            .When(Accept(H4, T0.AddHours(3)))
            .ThenRejected();
    }

    [Fact]
    public void Accept_WithNoPlacement_IsRejected()
    {
        Placement.Given()
            .When(Accept(H1, T1))
            .ThenRejected();
    }

    // --- Decline ---------------------------------------------------------------------------------

    [Fact]
    public void Decline_OneOfTheOpenOffers_RecordsTheDecline()
    {
        Placement.Given(Offered())
            .When(Decline(H2, T1))
            .Then(new PlacementEvent.OfferDeclined(H2.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", T1))
            .State.ShouldSatisfyAllConditions(
                s => s.Phase.ShouldBe(PlacementPhase.AwaitingResponses),
                s => s.OpenOffers.Select(o => o.CqcLocationId).ShouldBe([H1.CqcLocationId]));
    }

    [Fact]
    public void Decline_TheLastOpenOfferOfARound_OffersTheNextHomesNotYetOffered()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferExpired(H1.CqcLocationId, 1, T1)])
            .When(Decline(H2, T1.AddMinutes(30)))
            .Then(
                new PlacementEvent.OfferDeclined(H2.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", T1.AddMinutes(30)),
                new PlacementEvent.OffersMade(2, [
                    new Offer(H3.CqcLocationId, "Hove", 2, T1.AddMinutes(30).AddHours(4), OfferStatus.Open),
                    new Offer(H4.CqcLocationId, "Hove", 2, T1.AddMinutes(30).AddHours(4), OfferStatus.Open),
                ]))
            .State.Round.ShouldBe(2);
    }

    [Fact]
    public void Decline_TheLastOpenOfferOfTheLastRound_IsUnplaced()
    {
        var history = Unplaced()[..^2]; // both rounds made, H3 declined, H4 still open
        Placement.Given(history)
            .When(Decline(H4, T0.AddHours(3)))
            .Then(
                new PlacementEvent.OfferDeclined(H4.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", T0.AddHours(3)),
                new PlacementEvent.Unplaced("All 2 offer rounds were declined or expired.", T0.AddHours(3)))
            .State.Phase.ShouldBe(PlacementPhase.Unplaced);
    }

    [Fact]
    public void Decline_WhenEveryCandidateHasBeenOffered_IsUnplacedBeforeTheLastRound()
    {
        // Three rounds allowed, but only three candidates: round 2 holds the last one.
        var policy = Policy with { MaxRounds = 3 };
        Placement.Given(
                Requested(candidates: [H1, H2, H3], policy: policy),
                Round(1, T0, H1, H2),
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1),
                new PlacementEvent.OfferDeclined(H2.CqcLocationId, DeclineReason.NoBedAvailable, null, T1),
                Round(2, T1, H3))
            .When(Decline(H3, T1.AddHours(1)))
            .Then(
                new PlacementEvent.OfferDeclined(H3.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", T1.AddHours(1)),
                new PlacementEvent.Unplaced("Every matching home declined or did not answer.", T1.AddHours(1)));
    }

    [Fact]
    public void Decline_ClosingTheLastRoundAfterRequiredBy_IsUnplacedAndEscalated()
    {
        var late = T0.AddDays(3); // 4 December, London: the required-by date (3 December) has passed
        Placement.Given([.. Unplaced()[..^2]])
            .When(Decline(H4, late))
            .Then(
                new PlacementEvent.OfferDeclined(H4.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", late),
                new PlacementEvent.Unplaced("All 2 offer rounds were declined or expired.", late),
                new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, late));
    }

    [Fact]
    public void Decline_ClosingTheLastRoundLateOnTheRequiredByDayInLondon_IsNotEscalated()
    {
        // Summer time: 22:30 UTC on 30 June is 23:30 in London, still the required-by day.
        var summer = Details(requiredBy: new DateOnly(2026, 6, 30));
        var at = new DateTimeOffset(2026, 6, 30, 22, 30, 0, TimeSpan.Zero);
        var morning = new DateTimeOffset(2026, 6, 30, 8, 0, 0, TimeSpan.Zero);
        Placement.Given(Requested(candidates: [H1], details: summer, at: morning), Round(1, morning, H1))
            .When(Decline(H1, at))
            .Then(
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", at),
                new PlacementEvent.Unplaced("Every matching home declined or did not answer.", at));
    }

    [Fact]
    public void Decline_ClosingTheLastRoundJustAfterLondonMidnight_IsEscalated()
    {
        // 23:30 UTC on 30 June is 00:30 on 1 July in London: required-by (30 June) has passed, though UTC still says 30 June.
        var summer = Details(requiredBy: new DateOnly(2026, 6, 30));
        var at = new DateTimeOffset(2026, 6, 30, 23, 30, 0, TimeSpan.Zero);
        var morning = new DateTimeOffset(2026, 6, 30, 8, 0, 0, TimeSpan.Zero);
        Placement.Given(Requested(candidates: [H1], details: summer, at: morning), Round(1, morning, H1))
            .When(Decline(H1, at))
            .Then(
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.StaffingPressure, "No nurse cover", at),
                new PlacementEvent.Unplaced("Every matching home declined or did not answer.", at),
                new PlacementEvent.EscalatedPastRequiredBy(new DateOnly(2026, 6, 30), at));
    }

    [Fact]
    public void Decline_Repeated_IsRefused()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(Decline(H1, T1.AddMinutes(1)))
            .ThenRejected();
    }

    [Fact]
    public void Decline_ByAHomeWithNoOffer_IsRefused()
    {
        Placement.Given(Offered())
            .When(Decline(H5, T1))
            .ThenRejected();
    }

    [Fact]
    public void Decline_WhenBooked_IsRefused()
    {
        Placement.Given(Booked())
            .When(Decline(H2, T1.AddMinutes(1)))
            .ThenRejected();
    }

    // --- ExpireOffer (timer) ---------------------------------------------------------------------

    [Fact]
    public void ExpireOffer_ForAnOpenOffer_ExpiresIt()
    {
        Placement.Given(Offered())
            .When(new PlacementCommand.ExpireOffer(H1.CqcLocationId, 1, Expiry1))
            .Then(new PlacementEvent.OfferExpired(H1.CqcLocationId, 1, Expiry1))
            .State.Offers.Select(o => o.Status).ShouldBe([OfferStatus.Expired, OfferStatus.Open]);
    }

    [Fact]
    public void ExpireOffer_ForTheLastOpenOfferOfARound_OffersTheNextRound()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, Expiry1))
            .Then(new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, Expiry1), Round(2, Expiry1, H3, H4));
    }

    [Fact]
    public void ExpireOffer_ForTheLastOpenOfferOfTheLastRound_IsUnplaced()
    {
        var expiry2 = T1 + Policy.ResponseWindow;
        Placement.Given([.. Unplaced()[..^2]])
            .When(new PlacementCommand.ExpireOffer(H4.CqcLocationId, 2, expiry2))
            .Then(
                new PlacementEvent.OfferExpired(H4.CqcLocationId, 2, expiry2),
                new PlacementEvent.Unplaced("All 2 offer rounds were declined or expired.", expiry2));
    }

    [Fact]
    public void ExpireOffer_ForAnotherRound_YieldsNoEvents()
    {
        Placement.Given(Offered())
            .When(new PlacementCommand.ExpireOffer(H1.CqcLocationId, 2, Expiry1))
            .Then();
    }

    [Fact]
    public void ExpireOffer_AfterTheOfferWasDeclined_YieldsNoEvents()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(new PlacementCommand.ExpireOffer(H1.CqcLocationId, 1, Expiry1))
            .Then();
    }

    [Fact]
    public void ExpireOffer_AfterBooking_YieldsNoEvents()
    {
        Placement.Given(Booked())
            .When(new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, Expiry1))
            .Then();
    }

    [Fact]
    public void ExpireOffer_WhenUnplaced_YieldsNoEvents()
    {
        Placement.Given(Unplaced())
            .When(new PlacementCommand.ExpireOffer(H4.CqcLocationId, 2, T1 + Policy.ResponseWindow))
            .Then();
    }

    // --- CheckRequiredBy (timer) -----------------------------------------------------------------

    [Fact]
    public void CheckRequiredBy_WhenUnplacedAfterRequiredBy_Escalates()
    {
        var endOfRequiredBy = London.StartOf(RequiredBy.AddDays(1));
        Placement.Given(Unplaced())
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy))
            .Then(new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, endOfRequiredBy))
            .State.Escalated.ShouldBeTrue();
    }

    [Fact]
    public void CheckRequiredBy_AfterEscalation_YieldsNoEvents()
    {
        var endOfRequiredBy = London.StartOf(RequiredBy.AddDays(1));
        Placement.Given([.. Unplaced(), new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, endOfRequiredBy)])
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy.AddHours(1)))
            .Then();
    }

    [Fact]
    public void CheckRequiredBy_BeforeTheRequiredByDayEnds_YieldsNoEvents()
    {
        Placement.Given(Unplaced())
            .When(new PlacementCommand.CheckRequiredBy(London.StartOf(RequiredBy.AddDays(1)).AddMinutes(-1)))
            .Then();
    }

    [Fact]
    public void CheckRequiredBy_WhenBooked_YieldsNoEvents()
    {
        Placement.Given(Booked())
            .When(new PlacementCommand.CheckRequiredBy(T0.AddDays(5)))
            .Then();
    }

    [Fact]
    public void CheckRequiredBy_WhenCancelledWhileUnplaced_YieldsNoEvents()
    {
        Placement.Given([.. Unplaced(), new PlacementEvent.Cancelled("Patient went home with a care package", null, T0.AddHours(4))])
            .When(new PlacementCommand.CheckRequiredBy(T0.AddDays(5)))
            .Then();
    }

    // --- Cancel ----------------------------------------------------------------------------------

    [Fact]
    public void Cancel_WithNoPlacement_IsRejected()
    {
        Placement.Given()
            .When(new PlacementCommand.Cancel("Duplicate request", T0))
            .ThenRejected();
    }

    [Fact]
    public void Cancel_WhileAwaitingResponses_WithdrawsTheOpenOffersAndCancels()
    {
        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(new PlacementCommand.Cancel("Patient died", T1.AddMinutes(5)))
            .Then(
                new PlacementEvent.OffersWithdrawn([H2.CqcLocationId], "The placement was cancelled.", T1.AddMinutes(5)),
                new PlacementEvent.Cancelled("Patient died", null, T1.AddMinutes(5)))
            .State.ShouldSatisfyAllConditions(
                s => s.Phase.ShouldBe(PlacementPhase.Cancelled),
                s => s.OpenOffers.ShouldBeEmpty(),
                s => s.Offers.Select(o => o.Status).ShouldBe([OfferStatus.Declined, OfferStatus.Withdrawn]));
    }

    [Fact]
    public void Cancel_WhenBooked_ReleasesTheBookedHome()
    {
        Placement.Given(Booked())
            .When(new PlacementCommand.Cancel("Family arranged a private placement", T0.AddHours(2)))
            .Then(new PlacementEvent.Cancelled("Family arranged a private placement", H1.CqcLocationId, T0.AddHours(2)))
            .State.Phase.ShouldBe(PlacementPhase.Cancelled);
    }

    [Fact]
    public void Cancel_WhenUnplaced_CancelsWithNothingToRelease()
    {
        Placement.Given(Unplaced())
            .When(new PlacementCommand.Cancel("Patient went home with a care package", T0.AddHours(4)))
            .Then(new PlacementEvent.Cancelled("Patient went home with a care package", null, T0.AddHours(4)));
    }

    [Fact]
    public void Cancel_WhenAlreadyCancelled_YieldsNoEvents()
    {
        Placement.Given([.. Booked(), new PlacementEvent.Cancelled("Duplicate request", H1.CqcLocationId, T0.AddHours(2))])
            .When(new PlacementCommand.Cancel("Duplicate request", T0.AddHours(3)))
            .Then();
    }

    [Fact]
    public void Cancel_AfterAdmission_IsRejected()
    {
        Placement.Given([.. Booked(), new PlacementEvent.Admitted(AdmissionDate, T0.AddDays(1))])
            .When(new PlacementCommand.Cancel("Too late", T0.AddDays(2)))
            .ThenRejected()
            .Message.ShouldContain("admitted");
    }

    // --- RecordAdmission -------------------------------------------------------------------------

    [Fact]
    public void RecordAdmission_WhenBooked_Admits()
    {
        Placement.Given(Booked())
            .When(new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1)))
            .Then(new PlacementEvent.Admitted(AdmissionDate, T0.AddDays(1)))
            .State.Phase.ShouldBe(PlacementPhase.Admitted);
    }

    [Fact]
    public void RecordAdmission_Repeated_YieldsNoEvents()
    {
        Placement.Given([.. Booked(), new PlacementEvent.Admitted(AdmissionDate, T0.AddDays(1))])
            .When(new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1).AddMinutes(1)))
            .Then();
    }

    public static TheoryData<string> NotBooked => ["none", "awaitingResponses", "unplaced", "cancelled"];

    [Theory]
    [MemberData(nameof(NotBooked))]
    public void RecordAdmission_WhenNotBooked_IsRejected(string phase)
    {
        PlacementEvent[] history = phase switch
        {
            "none" => [],
            "awaitingResponses" => Offered(),
            "unplaced" => Unplaced(),
            _ => [.. Booked(), new PlacementEvent.Cancelled("Duplicate request", H1.CqcLocationId, T0.AddHours(2))],
        };

        Placement.Given(history)
            .When(new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1)))
            .ThenRejected();
    }

    // --- VerifyReservation (a home's timer) ------------------------------------------------------

    [Theory]
    [InlineData("booked")]
    [InlineData("admitted")]
    public void VerifyReservation_WithTheHomeItIsBookedOrAdmittedWith_KeepsTheBed(string phase)
    {
        var given = Placement.Given(InPhase(phase));
        var at = T1.AddMinutes(15);

        var then = given
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationChecked(H1.CqcLocationId, Kept: true, at));

        then.State.ShouldBeSameAs(given.State); // a check changes nothing in the placement
    }

    [Theory]
    [InlineData("booked")]
    [InlineData("admitted")]
    public void VerifyReservation_WithAnotherHomeThanTheBookedOne_ReleasesItsBed(string phase)
    {
        var at = T1.AddMinutes(15);
        Placement.Given(InPhase(phase))
            .When(new PlacementCommand.VerifyReservation(H2.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationChecked(H2.CqcLocationId, Kept: false, at));
    }

    [Fact]
    public void VerifyReservation_WhileTheHomesOfferIsOpen_IsDeferredUntilAfterItsDeadline()
    {
        // An accept may be on its way (a retry after a crash): releasing now could free a bed about to be booked.
        var at = T0.AddMinutes(15);

        Placement.Given(Offered())
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationCheckDeferred(H1.CqcLocationId, Expiry1 + CareHomeWorkflow.UnconfirmedReservationTimeout, at));
    }

    [Fact]
    public void VerifyReservation_RunLate_PastTheOffersDeadline_IsDeferredFromNow_NotIntoThePast()
    {
        // After an outage the check can run before the offer's late expiry timer: deferring to a time
        // already past would run it again at once, and again, until the expiry lands.
        var late = Expiry1 + TimeSpan.FromHours(1);

        Placement.Given(Offered())
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, late))
            .Then(new PlacementEvent.ReservationCheckDeferred(H1.CqcLocationId, late + CareHomeWorkflow.UnconfirmedReservationTimeout, late));
    }

    [Fact]
    public void VerifyReservation_WhileAwaitingOthers_AfterTheHomeDeclined_ReleasesTheBed()
    {
        var at = T0.AddMinutes(15);

        Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T0.AddMinutes(5))])
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationChecked(H1.CqcLocationId, Kept: false, at));
    }

    [Theory]
    [InlineData("cancelled")]
    [InlineData("cancelledWhileAwaiting")]
    [InlineData("unplaced")]
    public void VerifyReservation_WhenNotBooked_ReleasesTheBed(string phase)
    {
        var given = Placement.Given(InPhase(phase));
        var at = T0.AddHours(5);

        var then = given
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationChecked(H1.CqcLocationId, Kept: false, at));

        then.State.ShouldBeSameAs(given.State);
    }

    [Fact]
    public void VerifyReservation_Repeated_ChecksAgain()
    {
        // A timer may be delivered twice: each delivery is answered (the home ignores a second confirm).
        var at = T1.AddMinutes(15);
        Placement.Given([.. Booked(), new PlacementEvent.ReservationChecked(H1.CqcLocationId, true, at)])
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, at))
            .Then(new PlacementEvent.ReservationChecked(H1.CqcLocationId, Kept: true, at));
    }

    [Fact]
    public void VerifyReservation_WithNoPlacement_IsRejected()
    {
        Placement.Given()
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, T0))
            .ThenRejected();
    }
}
