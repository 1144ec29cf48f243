using WinterOps.Core.Opel;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using static WinterOps.Core.Tests.Placements.PlacementData;

namespace WinterOps.Core.Tests.Placements;

/// <summary>
/// What placement events cause besides the orchestration's own steps (its timers, and the homes' beds): notifications,
/// and the rule-5 escalation raised or resolved on the escalation workflow.
/// </summary>
public sealed class PlacementReactionTests
{
    private static readonly DeciderSpec<PlacementState, PlacementCommand, PlacementEvent> Placement = Spec;
    private static readonly DateTimeOffset T1 = T0.AddHours(1);

    private static List<Reaction.Notify> Notes(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Notify>().ToList();

    private static List<Reaction.Send> Sends(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Send>().ToList();

    [Fact]
    public void OffersMade_NotifiesEachOfferedHomeOfItsDeadline()
    {
        var reactions = Placement.Given().When(Request()).Then(Requested(), Round(1, T0, H1, H2)).Reactions();

        var expiresAt = T0 + Policy.ResponseWindow;
        Sends(reactions).ShouldBeEmpty(); // the orchestration runs the offers' deadlines
        var notes = Notes(reactions);
        notes.Select(n => n.Notification.To).ShouldBe([Recipient.Org(H1.CqcLocationId), Recipient.Org(H2.CqcLocationId)]);
        notes.ShouldAllBe(n => n.Notification.Type == "PlacementOffered" && n.Notification.Subject == Id);
        notes[0].Notification.Data["round"].ShouldBe("1");
        notes[0].Notification.Data["bedType"].ShouldBe("nursing");
        notes[0].Notification.Data["locality"].ShouldBe("Brighton");
        DateTimeOffset.Parse(notes[0].Notification.Data["expiresAt"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(expiresAt);
    }

    [Fact]
    public void OffersMade_InALaterRound_NotifiesTheNewHomesOfThatRoundsDeadline()
    {
        var at = T0 + Policy.ResponseWindow;
        var reactions = Placement.Given([.. Offered(), new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1)])
            .When(new PlacementCommand.ExpireOffer(H2.CqcLocationId, 1, at))
            .Then(new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, at), Round(2, at, H3, H4))
            .Reactions();

        Sends(reactions).ShouldBeEmpty();
        var notes = Notes(reactions);
        notes.Select(n => (n.Notification.Type, n.Notification.To.Id)).ShouldBe([
            ("PlacementOfferExpired", H2.CqcLocationId),
            ("PlacementOffered", H3.CqcLocationId),
            ("PlacementOffered", H4.CqcLocationId),
        ]);
        notes.Skip(1).ShouldAllBe(n => n.Notification.Data["round"] == "2");
        notes.Skip(1).Select(n => DateTimeOffset.Parse(n.Notification.Data["expiresAt"], System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBe([at + Policy.ResponseWindow, at + Policy.ResponseWindow]);
    }

    [Fact]
    public void Booked_TellsTheWinnerTheReferringTeamAndTheWithdrawnHome()
    {
        var t2 = T0.AddHours(2);
        var reactions = Placement.Given([
                .. Offered(),
                new PlacementEvent.OfferDeclined(H1.CqcLocationId, DeclineReason.NoBedAvailable, null, T1),
                new PlacementEvent.OfferExpired(H2.CqcLocationId, 1, T1),
                Round(2, T1, H3, H4),
            ])
            .When(new PlacementCommand.Accept(H3.CqcLocationId, AdmissionDate, Contact, t2))
            .Reactions();

        Sends(reactions).ShouldBeEmpty(); // the orchestration keeps the winner's bed and releases the others
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
    public void Cancelled_WhenBooked_TellsTheTeamAndTheBookedHome()
    {
        var reactions = Placement.Given(Booked())
            .When(new PlacementCommand.Cancel("Family arranged a private placement", T0.AddHours(2)))
            .Reactions();

        Sends(reactions).ShouldBeEmpty(); // the orchestration releases the bed
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([
            ("PlacementCancelled", Recipient.Org(Referrer)),
            ("PlacementCancelled", Recipient.Org(H1.CqcLocationId)),
        ]);
    }

    [Fact]
    public void Cancelled_WhileAwaitingResponses_TellsTheOpenHomesAndTheTeam()
    {
        var reactions = Placement.Given(Offered())
            .When(new PlacementCommand.Cancel("Patient died", T1))
            .Reactions();

        Sends(reactions).ShouldBeEmpty();
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([
            ("PlacementOfferWithdrawn", Recipient.Org(H1.CqcLocationId)),
            ("PlacementOfferWithdrawn", Recipient.Org(H2.CqcLocationId)),
            ("PlacementCancelled", Recipient.Org(Referrer)),
        ]);
    }

    [Fact]
    public void Admitted_TellsTheReferringTeam()
    {
        var reactions = Placement.Given(Booked())
            .When(new PlacementCommand.RecordAdmission(AdmissionDate, T0.AddDays(1)))
            .Reactions();

        Sends(reactions).ShouldBeEmpty(); // the orchestration admits the patient at the home
        Notes(reactions).Select(n => (n.Notification.Type, n.Notification.To)).ShouldBe([("PlacementAdmitted", Recipient.Org(Referrer))]);
    }

    [Fact]
    public void Unplaced_TellsTheTeamAndTheCoordinator()
    {
        var reactions = Placement.Given([.. Unplaced()[..^2]])
            .When(new PlacementCommand.Decline(H4.CqcLocationId, DeclineReason.CannotMeetNeeds, null, T0.AddHours(3)))
            .Reactions();

        Sends(reactions).ShouldBeEmpty(); // the orchestration checks it again at PlacementWorkflow.EndOfRequiredBy
        Notes(reactions).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe([
            ("PlacementOfferDeclined", Recipient.Org(H4.CqcLocationId)),
            ("PlacementUnplaced", Recipient.Org(Referrer)),
            ("PlacementUnplaced", Recipient.Role("Coordinator")),
        ]);
    }

    [Fact]
    public void Unplaced_AfterRequiredBy_EscalatesAtOnce_WithANoticeWhenRule5IsOff()
    {
        var late = Details(requiredBy: new DateOnly(2026, 11, 30));
        var reactions = Placement.Given()
            .When(Request(candidates: [], details: late))
            .Reactions();

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
        var endOfRequiredBy = PlacementWorkflow.EndOfRequiredBy(Details());
        var reactions = Placement.Given(Unplaced())
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy))
            .Reactions();

        Sends(reactions).ShouldBeEmpty();
        Notes(reactions).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe(
            [("PlacementEscalated", Recipient.Org(Referrer)), ("PlacementEscalated", Recipient.Role("Coordinator"))]);
    }

    [Fact]
    public void EscalatedByTheRequiredByTimer_WithRule5On_RaisesAnEscalationForTheCoordinationCentre_AndTellsTheTeam()
    {
        var window = TimeSpan.FromMinutes(20);
        var endOfRequiredBy = PlacementWorkflow.EndOfRequiredBy(Details());
        var reactions = Placement.Given([Requested(policy: Policy with { EscalationAcknowledgeWithin = window }), .. Unplaced()[1..]])
            .When(new PlacementCommand.CheckRequiredBy(endOfRequiredBy))
            .Reactions();

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
        var endOfRequiredBy = PlacementWorkflow.EndOfRequiredBy(Details());
        var reactions = Placement.Given(
            [Requested(policy: Policy with { EscalationAcknowledgeWithin = TimeSpan.FromMinutes(30) }), .. Unplaced()[1..], new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, endOfRequiredBy)])
            .When(new PlacementCommand.Cancel("Patient went home with a care package (test).", endOfRequiredBy.AddHours(2)))
            .Reactions();

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
        yield return ("cancel escalated", [.. Unplaced(), new PlacementEvent.EscalatedPastRequiredBy(RequiredBy, T0.AddDays(3))],
            new PlacementCommand.Cancel("Patient went home with a care package (test).", T0.AddDays(3).AddHours(1)));
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
            foreach (var note in Notes(then.Reactions()).Select(n => n.Notification))
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
        seenEvents.ShouldBe(PlacementWorkflow.Events.Types, ignoreOrder: true);
        notes.ShouldBeGreaterThan(20);
    }

    [Fact]
    public void Reactions_AreNotificationsAndTheRule5EscalationOnly()
    {
        // Offer deadlines, the required-by check, the homes' beds and the booking are the orchestration's steps:
        // with rule 5 on or off, React sends nothing but the escalation's raise and resolve, and schedules nothing.
        var rule5 = Policy with { EscalationAcknowledgeWithin = TimeSpan.FromMinutes(30) };
        var sends = new List<Reaction.Send>();
        var notes = 0;
        foreach (var (scenario, given, when) in Scenarios())
        {
            foreach (var policy in new[] { Policy, rule5 })
            {
                PlacementEvent[] history = [.. given.Select(e => e is PlacementEvent.Requested r ? r with { Policy = policy } : e)];
                var command = when is PlacementCommand.Request request ? request with { Policy = policy } : when;
                var reactions = Placement.Given(history).When(command).Reactions();
                notes += Notes(reactions).Count;
                sends.AddRange(Sends(reactions));
            }
        }

        sends.ShouldAllBe(s => s.Workflow == EscalationWorkflow.Name && s.DueAt == null && s.Key.EndsWith("-PlacementUnplacedPastRequiredBy-" + Id, StringComparison.Ordinal));
        sends.Select(s => s.Command.GetType()).Distinct().ShouldBe([typeof(EscalationCommand.Raise), typeof(EscalationCommand.Resolve)], ignoreOrder: true);
        notes.ShouldBeGreaterThan(40);
    }
}
