using System.Globalization;
using System.Text.Json;
using CsCheck;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using static WinterOps.Core.Tests.Placements.PlacementData;

namespace WinterOps.Core.Tests.Placements;

/// <summary>The placement decider: every transition, Given(history).When(command).Then(events).</summary>
public sealed class PlacementDeciderTests
{
    private static readonly DeciderSpec<PlacementState, PlacementCommand, PlacementEvent> Placement = PlacementData.Spec;
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
    public void EndOfRequiredBy_InWinter_IsMidnightAfterTheRequiredByDate()
    {
        // When the orchestration checks an unplaced placement again.
        PlacementWorkflow.EndOfRequiredBy(Details()).ShouldBe(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero)); // GMT in December
    }

    [Fact]
    public void EndOfRequiredBy_InSummerTime_IsLondonMidnight()
    {
        var summer = Details(requiredBy: new DateOnly(2026, 7, 15));

        var londonMidnight = new DateTimeOffset(2026, 7, 15, 23, 0, 0, TimeSpan.Zero); // 00:00 BST on 16 July
        London.StartOf(new DateOnly(2026, 7, 16)).ShouldBe(londonMidnight);
        PlacementWorkflow.EndOfRequiredBy(summer).ShouldBe(londonMidnight);
    }

    [Theory]
    [InlineData("2026-12-03")]
    [InlineData("2026-07-15")]
    [InlineData("2026-03-28")] // the day before the clocks go forward
    [InlineData("2026-10-24")] // the day before the clocks go back
    public void CheckRequiredBy_AtEndOfRequiredBy_EscalatesAndAMinuteBeforeDoesNot(string requiredBy)
    {
        // The check is scheduled by EndOfRequiredBy and decided by the required-by rule: the two must agree.
        var details = Details(requiredBy: DateOnly.Parse(requiredBy, CultureInfo.InvariantCulture));
        var end = PlacementWorkflow.EndOfRequiredBy(details);
        var requestedAt = London.StartOf(details.RequiredBy).AddHours(9);
        var unplaced = Placement.Given().When(Request(candidates: [], details: details, at: requestedAt));
        unplaced.State.ShouldSatisfyAllConditions(s => s.Phase.ShouldBe(PlacementPhase.Unplaced), s => s.Escalated.ShouldBeFalse());
        var given = Placement.Given([.. unplaced.Events]);

        given.When(new PlacementCommand.CheckRequiredBy(end.AddMinutes(-1))).Then();
        given.When(new PlacementCommand.CheckRequiredBy(end))
            .Then(new PlacementEvent.EscalatedPastRequiredBy(details.RequiredBy, end))
            .State.Escalated.ShouldBeTrue();
    }

    [Fact]
    public void CheckRequiredBy_WhenUnplacedAfterRequiredBy_Escalates()
    {
        var endOfRequiredBy = PlacementWorkflow.EndOfRequiredBy(Details());
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
            .When(new PlacementCommand.CheckRequiredBy(PlacementWorkflow.EndOfRequiredBy(Details()).AddMinutes(-1)))
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

    // --- Stored forms ----------------------------------------------------------------------------

    [Fact]
    public void EveryEvent_RoundTripsThroughItsStoredNameAndJson()
    {
        PlacementEvent[] events =
        [
            .. Unplaced(),
            new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, T0.AddDays(3)),
            new PlacementEvent.Booked(H1.CqcLocationId, AdmissionDate, Contact, T0),
            new PlacementEvent.OfferExpired(H1.CqcLocationId, 1, T0),
            new PlacementEvent.OffersWithdrawn([H1.CqcLocationId, H2.CqcLocationId], "Another home accepted.", T0),
            new PlacementEvent.Cancelled("Synthetic", H1.CqcLocationId, T0),
            new PlacementEvent.Cancelled("Synthetic", null, T0),
            new PlacementEvent.Admitted(AdmissionDate, T0),
        ];
        var names = PlacementWorkflow.Events;
        events.Select(e => e.GetType()).Distinct().ShouldBe(names.Types, ignoreOrder: true);

        var reread = events.Select(e => names.Deserialize(names.NameOf(e), names.Serialize(e))).ToList();

        DeciderSpec.Stored(names, reread).ShouldBe(DeciderSpec.Stored(names, events));
        reread.Select(e => e.GetType()).ShouldBe(events.Select(e => e.GetType()));
    }

    [Fact]
    public void EveryEvent_KeepsTheStoredNameItWasWrittenUnder()
    {
        // The audit trail names its events by these strings: a rename would leave stored placements unreadable.
        PlacementWorkflow.Events.Names.ShouldBe(
            [
                "PlacementRequested", "OffersMade", "PlacementBooked", "OfferDeclined", "OfferExpired", "OffersWithdrawn", "PlacementUnplaced",
                "PlacementEscalated", "PlacementCancelled", "PlacementAdmitted",
            ],
            ignoreOrder: true);
        PlacementWorkflow.Events.NameOf(Requested()).ShouldBe("PlacementRequested");
        PlacementWorkflow.Events.NameOf(new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, T0)).ShouldBe("PlacementEscalated");
    }

    [Fact]
    public void State_RoundTripsThroughItsStoredJson()
    {
        var state = Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H2.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(Accept(H1, T1.AddMinutes(5)))
            .State;

        var json = JsonSerializer.Serialize(state, WorkflowJson.Options);
        var restored = JsonSerializer.Deserialize<PlacementState>(json, WorkflowJson.Options).ShouldNotBeNull();

        restored.ShouldSatisfyAllConditions(
            s => s.PlacementId.ShouldBe(Id),
            s => s.Phase.ShouldBe(PlacementPhase.Booked),
            s => s.Booking.ShouldBe(new Booking(H1.CqcLocationId, AdmissionDate, Contact)),
            s => s.Details.ShouldNotBeNull().PreferredLocalities.ShouldBe(["Brighton", "Hove"]),
            s => s.Details!.ClinicalFlags.ShouldBe([ClinicalNeed.Oxygen]),
            s => s.Candidates.ShouldBe(Five),
            s => s.Policy.ShouldBe(Policy),
            s => s.Round.ShouldBe(1),
            s => s.Offers.ShouldBe(state.Offers),
            s => s.Offers.Select(o => o.Status).ShouldBe([OfferStatus.Accepted, OfferStatus.Declined]),
            s => s.Escalated.ShouldBeFalse(),
            s => s.RequestedAt.ShouldBe(T0));
        JsonSerializer.Serialize(restored, WorkflowJson.Options).ShouldBe(json);
    }

    // --- Any sequence of commands (property) -----------------------------------------------------

    public enum StepKind
    {
        Accept,
        Decline,
        Expire,
        Cancel,
        Admit,
        CheckRequiredBy,
    }

    /// <summary>One command, <paramref name="Minutes"/> after the last; <paramref name="Pick"/> chooses a home (offered ones first), modulo what exists.</summary>
    public sealed record PlacementStep(StepKind Kind, int Pick, int Minutes);

    public sealed record Sequence(int Candidates, int OffersPerRound, int MaxRounds, int RequiredByDays, PlacementStep[] Steps)
    {
        public override string ToString() =>
            $"candidates {Candidates}, {OffersPerRound} per round, {MaxRounds} rounds, required-by {RequiredBy.AddDays(RequiredByDays - 2).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}, steps:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", Steps.Select(s => s.ToString()));
    }

    private static readonly Gen<PlacementStep> GenStep = Gen.Select(
        Gen.Frequency(
            (3, Gen.Const(StepKind.Accept)), (4, Gen.Const(StepKind.Decline)), (4, Gen.Const(StepKind.Expire)),
            (1, Gen.Const(StepKind.Cancel)), (1, Gen.Const(StepKind.Admit)), (1, Gen.Const(StepKind.CheckRequiredBy))),
        Gen.Int[0, 7],
        Gen.Frequency((3, Gen.Int[0, 60]), (1, Gen.Int[0, 24 * 60])),
        (kind, pick, minutes) => new PlacementStep(kind, pick, minutes));

    private static readonly Gen<Sequence> GenSequence = Gen.Select(
        Gen.Int[0, 5], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[0, 2], GenStep.Array[0, 40],
        (candidates, perRound, rounds, requiredBy, steps) => new Sequence(candidates, perRound, rounds, requiredBy, steps));

    [Fact]
    public void AnySequenceOfCommands_KeepsOffersAndTheBookingConsistent_AndSettlesOnceTheOrchestrationsTimersFire()
    {
        // The pure half of the former saga property: random answers, cancellations, admissions and timers reaching the
        // placement in any order, then the orchestration's own timers (each open offer's deadline, then the end of the
        // required-by date). CsCheck prints a seed on failure; pass it as seed: to replay.
        var outcomes = new HashSet<string>();
        var gate = new Lock();
        GenSequence.Sample(
            sequence =>
            {
                var reached = new PlacementRun(sequence).RunAll();
                lock (gate)
                {
                    outcomes.UnionWith(reached);
                }
            },
            iter: 500,
            print: s => s.ToString());

        // Guards the property against a generator that never gets somewhere.
        outcomes.ShouldBe(
            ["Booked", "Admitted", "Cancelled", "Unplaced", "Escalated", "EscalatedByTheCheck", "LateAcceptRefused", "BookedInALaterRound", "RefusedAnswer"],
            ignoreOrder: true);
    }

    /// <summary>One placement moved only through Decide/Evolve, its reactions checked for patient data as they happen.</summary>
    private sealed class PlacementRun(Sequence sequence)
    {
        private static readonly string[] Secrets = [PatientRef, Nhs, Needs];
        private readonly PlacementRequest _details = Details(requiredBy: RequiredBy.AddDays(sequence.RequiredByDays - 2)); // 1 to 3 December
        private readonly OfferPolicy _policy = new(sequence.OffersPerRound, TimeSpan.FromHours(4), sequence.MaxRounds);
        private readonly List<Candidate> _candidates = [.. Five.Take(sequence.Candidates)];
        private readonly List<PlacementEvent> _history = [];
        private readonly HashSet<string> _outcomes = [];
        private PlacementState _state = PlacementState.Initial;
        private DateTimeOffset _now = T0;
        private int _step;

        public HashSet<string> RunAll()
        {
            Try(new PlacementCommand.Request(Id, _details, _candidates, _policy, _now)).ShouldBeTrue();
            Check();
            foreach (var step in sequence.Steps)
            {
                _step++;
                _now = _now.AddMinutes(step.Minutes);
                Apply(step);
                Check();
            }

            Settle();
            _outcomes.Add(_state.Phase.ToString());
            if (_state.Escalated)
            {
                _outcomes.Add("Escalated");
            }

            return _outcomes;
        }

        private string Pick(int pick) =>
            _state.Offers.Count > 0 && pick < 6 ? _state.Offers[pick % _state.Offers.Count].CqcLocationId : Five[pick % Five.Length].CqcLocationId;

        private void Apply(PlacementStep step)
        {
            var home = Pick(step.Pick);
            var awaiting = _state.Phase == PlacementPhase.AwaitingResponses;
            var open = _state.OpenOffer(home);
            switch (step.Kind)
            {
                case StepKind.Accept:
                    {
                        var acceptable = awaiting && open is not null && _now <= open.ExpiresAt;
                        if (awaiting && open is not null && !acceptable)
                        {
                            _outcomes.Add("LateAcceptRefused");
                        }

                        Try(new PlacementCommand.Accept(home, London.Today(_now).AddDays(1), Contact, _now)).ShouldBe(acceptable, Where($"accept by {home}"));
                        if (acceptable && open!.Round > 1)
                        {
                            _outcomes.Add("BookedInALaterRound");
                        }

                        break;
                    }

                case StepKind.Decline:
                    Try(new PlacementCommand.Decline(home, DeclineReason.NoBedAvailable, Needs, _now)).ShouldBe(awaiting && open is not null, Where($"decline by {home}"));
                    break;
                case StepKind.Expire:
                    {
                        // A deadline for the offer's own round, or (odd picks) a stale one for another round.
                        var round = (open?.Round ?? _state.Round) + (step.Pick % 2);
                        var before = _history.Count;
                        Try(new PlacementCommand.ExpireOffer(home, round, _now)).ShouldBeTrue(Where($"a deadline for {home} was refused"));
                        (_history.Count > before).ShouldBe(awaiting && open is not null && open.Round == round, Where($"deadline for {home}, round {round}"));
                        break;
                    }

                case StepKind.Cancel:
                    Try(new PlacementCommand.Cancel(PatientRef, _now)).ShouldBe(_state.Phase != PlacementPhase.Admitted, Where("cancel"));
                    break;
                case StepKind.Admit:
                    Try(new PlacementCommand.RecordAdmission(London.Today(_now), _now))
                        .ShouldBe(_state.Phase is PlacementPhase.Booked or PlacementPhase.Admitted, Where("admit"));
                    break;
                case StepKind.CheckRequiredBy:
                    {
                        var escalates = _state.Phase == PlacementPhase.Unplaced && !_state.Escalated && London.Today(_now) > _details.RequiredBy;
                        var before = _history.Count;
                        Try(new PlacementCommand.CheckRequiredBy(_now)).ShouldBeTrue(Where("a required-by check was refused"));
                        (_history.Count > before).ShouldBe(escalates, Where("required-by check"));
                        break;
                    }
            }

            if (step.Kind is StepKind.Accept or StepKind.Decline && (!awaiting || open is null))
            {
                _outcomes.Add("RefusedAnswer");
            }
        }

        /// <summary>What the orchestration does with no one answering: each open offer expires at its deadline, then the required-by date ends.</summary>
        private void Settle()
        {
            for (var guard = 0; _state.Phase == PlacementPhase.AwaitingResponses; guard++)
            {
                guard.ShouldBeLessThan(Five.Length + 1, Where("the offers' deadlines never ended the rounds"));
                var first = _state.OpenOffers.MinBy(o => o.ExpiresAt)!;
                _now = first.ExpiresAt > _now ? first.ExpiresAt : _now;
                Try(new PlacementCommand.ExpireOffer(first.CqcLocationId, first.Round, _now)).ShouldBeTrue();
                Check();
            }

            if (_state.Phase == PlacementPhase.Unplaced && !_state.Escalated)
            {
                var end = PlacementWorkflow.EndOfRequiredBy(_details);
                _now = end > _now ? end : _now;
                Try(new PlacementCommand.CheckRequiredBy(_now)).ShouldBeTrue();
                Check();
                _outcomes.Add("EscalatedByTheCheck");
            }

            _state.Phase.ShouldNotBe(PlacementPhase.AwaitingResponses);
            if (_state.Phase == PlacementPhase.Unplaced)
            {
                _state.Escalated.ShouldBeTrue(Where($"unplaced past its required-by date {_details.RequiredBy} but not escalated"));
            }
        }

        private bool Try(PlacementCommand command)
        {
            List<PlacementEvent> events;
            try
            {
                events = PlacementWorkflow.Decide(command, _state).ToList();
            }
            catch (CommandRejectedException)
            {
                return false;
            }

            foreach (var e in events)
            {
                _state = PlacementWorkflow.Evolve(_state, e);
                _history.Add(e);
                foreach (var note in PlacementWorkflow.React(_state, e).OfType<Reaction.Notify>().Select(n => n.Notification))
                {
                    string[] texts = [note.Title, note.Subject, note.Link ?? "", .. note.Data.Values];
                    foreach (var secret in Secrets)
                    {
                        texts.Any(t => t.Contains(secret, StringComparison.OrdinalIgnoreCase)).ShouldBeFalse(Where($"{note.Type} carries '{secret}'"));
                    }
                }
            }

            return true;
        }

        private string Where(string what) => $"step {_step} at {_now:O} ({_state.Phase}): {what}";

        /// <summary>The invariants that hold after every step.</summary>
        private void Check()
        {
            _history.OfType<PlacementEvent.Booked>().Count().ShouldBeLessThanOrEqualTo(1, Where("booked twice"));
            _history.OfType<PlacementEvent.EscalatedPastRequiredBy>().Count().ShouldBe(_state.Escalated ? 1 : 0, Where("escalations"));

            var rounds = _history.OfType<PlacementEvent.OffersMade>().ToList();
            rounds.Select(r => r.Round).ShouldBe(Enumerable.Range(1, rounds.Count), Where("rounds"));
            rounds.Count.ShouldBeLessThanOrEqualTo(_policy.MaxRounds, Where("too many rounds"));
            rounds.All(r => r.Offers.Count >= 1 && r.Offers.Count <= _policy.OffersPerRound && r.Offers.All(o => o.Round == r.Round)).ShouldBeTrue(Where("a round's offers"));
            var offered = rounds.SelectMany(r => r.Offers).Select(o => o.CqcLocationId).ToList();
            offered.ShouldBeUnique(Where("a home was offered twice"));
            offered.ShouldBeSubsetOf(_candidates.Select(c => c.CqcLocationId), Where("a home that is no candidate was offered"));
            _state.Offers.Select(o => o.CqcLocationId).ShouldBe(offered, Where("the state's offers"));

            // Each offer is closed at most once, and exactly once when the placement is over.
            var terminal = _state.Phase is PlacementPhase.Booked or PlacementPhase.Unplaced or PlacementPhase.Cancelled or PlacementPhase.Admitted;
            foreach (var home in offered)
            {
                var closings = _history.Count(e => e switch
                {
                    PlacementEvent.Booked b => b.CqcLocationId == home,
                    PlacementEvent.OfferDeclined d => d.CqcLocationId == home,
                    PlacementEvent.OfferExpired x => x.CqcLocationId == home,
                    PlacementEvent.OffersWithdrawn w => w.CqcLocationIds.Contains(home),
                    _ => false,
                });
                closings.ShouldBeLessThanOrEqualTo(1, Where($"the offer to {home} was closed {closings} times"));
                if (terminal)
                {
                    closings.ShouldBe(1, Where($"the offer to {home} was closed {closings} times"));
                }
            }

            if (terminal)
            {
                _state.OpenOffers.ShouldBeEmpty(Where("open offers"));
            }

            // A booking is the one accepted offer.
            if (_state.Booking is { } booking)
            {
                _state.Offers.Where(o => o.Status == OfferStatus.Accepted).Select(o => o.CqcLocationId).ShouldBe([booking.CqcLocationId], Where("accepted offers"));
            }
            else
            {
                _state.Offers.Any(o => o.Status == OfferStatus.Accepted).ShouldBeFalse(Where("an accepted offer without a booking"));
            }
        }
    }
}
