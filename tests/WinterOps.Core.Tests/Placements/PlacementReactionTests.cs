using WinterOps.Core.CareHomes;
using WinterOps.Core.Opel;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using static WinterOps.Core.Tests.Placements.PlacementData;

namespace WinterOps.Core.Tests.Placements;

/// <summary>What placement events cause: notifications, deadline timers, and commands to the homes' streams.</summary>
public sealed class PlacementReactionTests
{
    private static readonly DeciderSpec<PlacementState, PlacementCommand, PlacementEvent> Placement = DeciderSpec.For(PlacementWorkflow.Definition);
    private static readonly string Stream = PlacementWorkflow.Definition.StreamId(Id);
    private static readonly DateTimeOffset T1 = T0.AddHours(1);

    private static List<Reaction.Notify> Notes(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Notify>().ToList();

    private static List<Reaction.Send> Sends(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Send>().ToList();

    [Fact]
    public void OffersMade_NotifiesEachOfferedHomeAndSchedulesItsDeadline()
    {
        var reactions = Placement.Given().When(Request()).Then(Requested(), Round(1, T0, H1, H2)).Reactions(Stream);

        var expiresAt = T0 + Policy.ResponseWindow;
        Sends(reactions).ShouldBe([
            new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.ExpireOffer(H1.CqcLocationId, 1, expiresAt), expiresAt),
            new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, expiresAt), expiresAt),
        ]);
        var notes = Notes(reactions);
        notes.Select(n => n.Notification.To).ShouldBe([Recipient.Org(H1.CqcLocationId), Recipient.Org(H2.CqcLocationId)]);
        notes.ShouldAllBe(n => n.Notification.Type == "PlacementOffered" && n.Notification.Subject == Id);
        notes[0].Notification.Data["round"].ShouldBe("1");
        notes[0].Notification.Data["bedType"].ShouldBe("nursing");
        notes[0].Notification.Data["locality"].ShouldBe("Brighton");
        DateTimeOffset.Parse(notes[0].Notification.Data["expiresAt"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(expiresAt);
    }

    [Fact]
    public void OffersMade_InALaterRound_SchedulesDeadlinesForThatRound()
    {
        var at = T0 + Policy.ResponseWindow;
        var reactions = Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, at))
            .Then(new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, at), Round(2, at, H3, H4))
            .Reactions(Stream);

        Sends(reactions).ShouldBe([
            new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.ExpireOffer(H3.CqcLocationId, 2, at + Policy.ResponseWindow), at + Policy.ResponseWindow),
            new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.ExpireOffer(H4.CqcLocationId, 2, at + Policy.ResponseWindow), at + Policy.ResponseWindow),
        ]);
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To.Id)).ShouldBe([
            ("PlacementOfferExpired", H2.CqcLocationId),
            ("PlacementOffered", H3.CqcLocationId),
            ("PlacementOffered", H4.CqcLocationId),
        ]);
    }

    [Fact]
    public void Booked_ConfirmsTheWinnerReleasesEveryOtherOfferedHomeAndTellsTheReferringTeam()
    {
        var t2 = T0.AddHours(2);
        var reactions = Placement.Given([
                .. Offered(),
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1),
                new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, T1),
                Round(2, T1, H3, H4),
            ])
            .When(new PlacementCommand.Accept(H3.CqcLocationId, AdmissionDate, Contact, t2))
            .Reactions(Stream);

        Sends(reactions).ShouldBe([
            new Reaction.Send(CareHomeWorkflow.Name, H3.CqcLocationId, new CareHomeCommand.Confirm(Id)),
            new Reaction.Send(CareHomeWorkflow.Name, H1.CqcLocationId, new CareHomeCommand.Release(Id, "The placement was booked with another home.")),
            new Reaction.Send(CareHomeWorkflow.Name, H2.CqcLocationId, new CareHomeCommand.Release(Id, "The placement was booked with another home.")),
            new Reaction.Send(CareHomeWorkflow.Name, H4.CqcLocationId, new CareHomeCommand.Release(Id, "The placement was booked with another home.")),
        ]);
        var notes = Notes(reactions);
        notes.Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([
            ("PlacementBooked", Recipient.Org(H3.CqcLocationId)),
            ("PlacementBooked", Recipient.Org(Referrer)),
            ("PlacementOfferWithdrawn", Recipient.Org(H4.CqcLocationId)),
        ]);
        notes[1].Notification.Data["cqcLocationId"].ShouldBe(H3.CqcLocationId);
        notes[1].Notification.Data["admissionDate"].ShouldBe("2026-12-02");
    }

    [Fact]
    public void Cancelled_WhenBooked_ReleasesTheBookedHome()
    {
        var reactions = Placement.Given(Booked())
            .When(new PlacementCommand.Cancel("Family arranged a private placement", T0.AddHours(2)))
            .Reactions(Stream);

        Sends(reactions).ShouldBe([new Reaction.Send(CareHomeWorkflow.Name, H1.CqcLocationId, new CareHomeCommand.Release(Id, "The placement was cancelled."))]);
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([
            ("PlacementCancelled", Recipient.Org(Referrer)),
            ("PlacementCancelled", Recipient.Org(H1.CqcLocationId)),
        ]);
    }

    [Fact]
    public void Cancelled_WhileAwaitingResponses_ReleasesNothingAndTellsTheOpenHomes()
    {
        var reactions = Placement.Given(Offered())
            .When(new PlacementCommand.Cancel("Patient died", T1))
            .Reactions(Stream);

        Sends(reactions).ShouldBeEmpty();
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([
            ("PlacementOfferWithdrawn", Recipient.Org(H1.CqcLocationId)),
            ("PlacementOfferWithdrawn", Recipient.Org(H2.CqcLocationId)),
            ("PlacementCancelled", Recipient.Org(Referrer)),
        ]);
    }

    [Fact]
    public void Admitted_AdmitsThePatientAtTheBookedHome()
    {
        var reactions = Placement.Given(Booked())
            .When(new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1)))
            .Reactions(Stream);

        Sends(reactions).ShouldBe([new Reaction.Send(CareHomeWorkflow.Name, H1.CqcLocationId, new CareHomeCommand.Admit(Id, T0.AddDays(1)))]);
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([("PlacementAdmitted", Recipient.Org(Referrer))]);
    }

    [Theory]
    [InlineData("booked")]
    [InlineData("admitted")]
    public void ReservationCheckedAndKept_ConfirmsTheBedAtThatHome(string phase)
    {
        var reactions = Placement.Given(InPhase(phase))
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, T1.AddMinutes(15)))
            .Then(new PlacementEvent.ReservationChecked(H1.CqcLocationId, true, T1.AddMinutes(15)))
            .Reactions(Stream);

        reactions.ShouldBe([new Reaction.Send(CareHomeWorkflow.Name, H1.CqcLocationId, new CareHomeCommand.Confirm(Id))]);
    }

    [Fact]
    public void ReservationCheckDeferred_ChecksAgainWhenDue()
    {
        var reactions = Placement.Given(Offered())
            .When(new PlacementCommand.VerifyReservation(H1.CqcLocationId, T0.AddMinutes(15)))
            .Then(new PlacementEvent.ReservationCheckDeferred(H1.CqcLocationId, T0 + Policy.ResponseWindow + CareHomeWorkflow.UnconfirmedReservationTimeout, T0.AddMinutes(15)))
            .Reactions(Stream);

        var send = reactions.ShouldHaveSingleItem().ShouldBeOfType<Reaction.Send>();
        send.Command.ShouldBe(new PlacementCommand.VerifyReservation(H1.CqcLocationId, T0 + Policy.ResponseWindow + CareHomeWorkflow.UnconfirmedReservationTimeout));
        send.DueAt.ShouldBe(T0 + Policy.ResponseWindow + CareHomeWorkflow.UnconfirmedReservationTimeout);
    }

    [Theory]
    [InlineData("booked", 2)]
    [InlineData("admitted", 2)]
    [InlineData("cancelled", 1)]
    [InlineData("cancelledWhileAwaiting", 1)]
    [InlineData("unplaced", 3)]
    public void ReservationCheckedAndNotKept_ReleasesTheBedAtThatHome(string phase, int candidate)
    {
        var home = Five[candidate - 1].CqcLocationId;
        var reactions = Placement.Given(InPhase(phase))
            .When(new PlacementCommand.VerifyReservation(home, T0.AddHours(5)))
            .Then(new PlacementEvent.ReservationChecked(home, false, T0.AddHours(5)))
            .Reactions(Stream);

        reactions.ShouldBe([new Reaction.Send(CareHomeWorkflow.Name, home, new CareHomeCommand.Release(Id, "The placement was not booked with this home."))]);
    }

    [Fact]
    public void TheVerificationRoundTrip_KeepsABookedBedWhoseConfirmIsStillUndelivered()
    {
        // The bug the placement-side check fixed: the booking's own Confirm is still in the outbox when the timer fires.
        var home = CareHomeWorkflow.Definition;
        CareHomeEvent[] history =
        [
            new CareHomeEvent.Registered(H1.CqcLocationId, new CareHomeDetails("Synthetic", "Brighton", [BedType.Nursing], [], CqcRating.Good, [])),
            new CareHomeEvent.VacanciesReported(T0, new Dictionary<BedType, BedCount> { [BedType.Nursing] = new(10, 9, 0, 1) }),
            new CareHomeEvent.BedReserved(Id, BedType.Nursing, T1),
        ];
        var held = home.Fold(history);

        var verify = home.React(home.StreamId(H1.CqcLocationId), held, history[^1]).ShouldHaveSingleItem().ShouldBeOfType<Reaction.Send>();
        verify.Workflow.ShouldBe(PlacementWorkflow.Name);
        verify.Key.ShouldBe(Id);
        var reply = Placement.Given(Booked()).When((PlacementCommand)verify.Command).Reactions(Stream)
            .ShouldHaveSingleItem().ShouldBeOfType<Reaction.Send>();
        reply.Workflow.ShouldBe(CareHomeWorkflow.Name);
        reply.Key.ShouldBe(H1.CqcLocationId);
        var after = home.Fold([.. history, .. home.Decide((CareHomeCommand)reply.Command, held)]).ShouldBeOfType<CareHomeState.Registered>();

        after.ReservationFor(Id).ShouldBe(new Reservation(Id, BedType.Nursing, Confirmed: true));
        after.Free(BedType.Nursing).ShouldBe(0);
    }

    [Fact]
    public void Unplaced_TellsTheTeamAndTheCoordinatorAndChecksAgainWhenRequiredByEnds()
    {
        var reactions = Placement.Given([.. Unplaced()[..^2]])
            .When(new PlacementCommand.Decline(H4.CqcLocationId, DeclineReason.CannotMeetNeeds, null, T0.AddHours(3)))
            .Reactions(Stream);

        var endOfRequiredBy = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero); // GMT in December
        Sends(reactions).ShouldBe([new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.CheckRequiredBy(endOfRequiredBy), endOfRequiredBy)]);
        Notes(reactions).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe([
            ("PlacementOfferDeclined", Recipient.Org(H4.CqcLocationId)),
            ("PlacementUnplaced", Recipient.Org(Referrer)),
            ("PlacementUnplaced", Recipient.Role("Coordinator")),
        ]);
    }

    [Fact]
    public void Unplaced_WithARequiredByDateInSummerTime_ChecksAgainAtLondonMidnight()
    {
        var summer = Details(requiredBy: new DateOnly(2026, 7, 15));
        var reactions = Placement.Given()
            .When(Request(candidates: [], details: summer, at: new DateTimeOffset(2026, 7, 14, 9, 0, 0, TimeSpan.Zero)))
            .Reactions(Stream);

        var londonMidnight = new DateTimeOffset(2026, 7, 15, 23, 0, 0, TimeSpan.Zero); // 00:00 BST on 16 July
        London.StartOf(new DateOnly(2026, 7, 16)).ShouldBe(londonMidnight);
        Sends(reactions).ShouldBe([new Reaction.Send(PlacementWorkflow.Name, Id, new PlacementCommand.CheckRequiredBy(londonMidnight), londonMidnight)]);
    }

    [Fact]
    public void Unplaced_AfterRequiredBy_EscalatesAtOnceWithNoLaterCheck()
    {
        var late = Details(requiredBy: new DateOnly(2026, 11, 30));
        var reactions = Placement.Given()
            .When(Request(candidates: [], details: late))
            .Reactions(Stream);

        Sends(reactions).ShouldBeEmpty();
        var notes = Notes(reactions);
        notes.SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe([
            ("PlacementUnplaced", Recipient.Org(Referrer)),
            ("PlacementUnplaced", Recipient.Role("Coordinator")),
            ("PlacementEscalated", Recipient.Org(Referrer)),
            ("PlacementEscalated", Recipient.Role("Coordinator")), // rule 5 is off in this policy: a notice instead of an escalation
        ]);
        notes[0].Notification.Severity.ShouldBe(Severity.Warning);
        notes[1].Notification.Severity.ShouldBe(Severity.Critical);
        notes[1].Notification.Title.ShouldContain("2026-11-30");
    }

    [Fact]
    public void EscalatedByTheRequiredByTimer_WithRule5Off_TellsTheTeamAndTheCoordinator()
    {
        var endOfRequiredBy = London.StartOf(RequiredBy.AddDays(1));
        var reactions = Placement.Given(Unplaced())
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy))
            .Reactions(Stream);

        Sends(reactions).ShouldBeEmpty();
        Notes(reactions).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe(
            [("PlacementEscalated", Recipient.Org(Referrer)), ("PlacementEscalated", Recipient.Role("Coordinator"))]);
    }

    [Fact]
    public void EscalatedByTheRequiredByTimer_WithRule5On_RaisesAnEscalationForTheCoordinationCentre_AndTellsTheTeam()
    {
        var window = TimeSpan.FromMinutes(20);
        var endOfRequiredBy = London.StartOf(RequiredBy.AddDays(1));
        var reactions = Placement.Given([Requested(policy: Policy with { EscalationAcknowledgeWithin = window }), .. Unplaced()[1..]])
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy))
            .Reactions(Stream);

        Notes(reactions).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe([("PlacementEscalated", Recipient.Org(Referrer))]);
        var send = Sends(reactions).ShouldHaveSingleItem();
        send.Workflow.ShouldBe(EscalationWorkflow.Name);
        send.Key.ShouldBe($"2026-12-03-PlacementUnplacedPastRequiredBy-{Id}");
        var raise = send.Command.ShouldBeOfType<EscalationCommand.Raise>();
        (raise.Rule, raise.Date, raise.Subject, raise.AcknowledgeWithin, raise.At).ShouldBe(
            (EscalationRule.PlacementUnplacedPastRequiredBy, RequiredBy, Id, window, endOfRequiredBy));
        raise.Ladder.ShouldBe([EscalationWorkflow.CoordinationCentre]);
        raise.Details.ShouldBe(new Dictionary<string, string>
        {
            ["placementId"] = Id, ["referringOrg"] = Referrer, ["bedType"] = "nursing", ["requiredBy"] = "2026-12-03",
        });
    }

    [Fact]
    public void CancellingAnEscalatedPlacement_ResolvesItsEscalation()
    {
        var endOfRequiredBy = London.StartOf(RequiredBy.AddDays(1));
        var reactions = Placement.Given(
            [Requested(policy: Policy with { EscalationAcknowledgeWithin = TimeSpan.FromMinutes(30) }), .. Unplaced()[1..], new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, endOfRequiredBy)])
            .When(new PlacementCommand.Cancel("Patient went home with a care package (test).", endOfRequiredBy.AddHours(2)))
            .Reactions(Stream);

        var send = Sends(reactions).ShouldHaveSingleItem();
        send.Key.ShouldBe($"2026-12-03-PlacementUnplacedPastRequiredBy-{Id}");
        send.Command.ShouldBeOfType<EscalationCommand.Resolve>().Reason.ShouldContain("went home");
    }

    /// <summary>Every event of every scenario in this file and the decider tests, with the reactions it causes.</summary>
    private static IEnumerable<(string Scenario, PlacementEvent[] Given, PlacementCommand When)> Scenarios()
    {
        var late = Details(requiredBy: new DateOnly(2026, 11, 30));
        yield return ("request", [], Request());
        yield return ("request, no candidates", [], Request(candidates: []));
        yield return ("request, no candidates, late", [], Request(candidates: [], details: late));
        yield return ("accept", Offered(), new PlacementCommand.Accept(H1.CqcLocationId, AdmissionDate, Contact, T1));
        yield return ("decline", Offered(), new PlacementCommand.Decline(H1.CqcLocationId, DeclineReason.Other, Needs, T1));
        yield return ("decline to next round", [.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.Other, null, T1)],
            new PlacementCommand.Decline(H2.CqcLocationId, DeclineReason.Other, null, T1));
        yield return ("expire", Offered(), new PlacementCommand.ExpireOffer(H1.CqcLocationId, 1, T0 + Policy.ResponseWindow));
        yield return ("unplaced", [.. Unplaced()[..^2]], new PlacementCommand.Decline(H4.CqcLocationId, DeclineReason.Other, null, T0.AddHours(3)));
        yield return ("unplaced, late", [.. Unplaced()[..^2]], new PlacementCommand.Decline(H4.CqcLocationId, DeclineReason.Other, null, T0.AddDays(3)));
        yield return ("escalate", Unplaced(), new PlacementCommand.CheckRequiredBy(T0.AddDays(3)));
        yield return ("cancel awaiting", Offered(), new PlacementCommand.Cancel(PatientRef, T1));
        yield return ("cancel booked", Booked(), new PlacementCommand.Cancel(Needs, T1));
        yield return ("cancel unplaced", Unplaced(), new PlacementCommand.Cancel(Nhs, T0.AddHours(4)));
        yield return ("admit", Booked(), new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1)));
        yield return ("verify kept", Booked(), new PlacementCommand.VerifyReservation(H1.CqcLocationId, T1.AddMinutes(15)));
        yield return ("verify released", Offered(), new PlacementCommand.VerifyReservation(H1.CqcLocationId, T0.AddMinutes(15)));
    }

    [Fact]
    public void Notifications_NeverCarryThePatientRefNhsNumberOrNeedsSummary()
    {
        // The cancel reasons and a decline comment above even carry the secrets as free text: none may leak.
        string[] secrets = [PatientRef, Nhs, Needs, "NEEDS-SENTINEL"];
        var seenEvents = new HashSet<Type>();
        var notes = 0;
        foreach (var (scenario, given, when) in Scenarios())
        {
            var then = Placement.Given(given).When(when);
            then.Events.ShouldNotBeEmpty(scenario);
            seenEvents.UnionWith(then.Events.Select(e => e.GetType()));
            foreach (var note in Notes(then.Reactions(Stream)).Select(n => n.Notification))
            {
                notes++;
                string[] texts = [note.Title, note.Subject, note.Link ?? "", note.To.Id, .. note.Data.Values, .. note.Data.Keys];
                foreach (var secret in secrets)
                {
                    texts.ShouldAllBe(t => !t.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{scenario}: {note.Type} carries '{secret}'");
                }
            }
        }

        // The check means something only if every event type was reacted to.
        seenEvents.ShouldBe(PlacementWorkflow.Definition.Events.Types, ignoreOrder: true);
        notes.ShouldBeGreaterThan(20);
    }
}
