using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Opel;

public class EscalationDeciderTests
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 11, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(30);
    private static readonly OnCallContact First = new("Exec One", "11111111-1111-1111-1111-111111111111", "QZZ");
    private static readonly OnCallContact Second = new("Exec Two", null, "QZZ");
    private static readonly DeciderSpec<EscalationState, EscalationCommand, EscalationEvent> Escalation = DeciderSpec.For(EscalationWorkflow.Definition);
    private static readonly string Key = EscalationWorkflow.Key(Day, EscalationRule.SystemLevel, "system");
    private static readonly string Stream = EscalationWorkflow.Definition.StreamId(Key);

    private static EscalationCommand.Raise Raise(DateTimeOffset? at = null) => new(
        EscalationRule.SystemLevel, Day, "system", "The system is at OPEL 3", new Dictionary<string, string> { ["systemLevel"] = "3" }, [First, Second], Window, at ?? T0);

    private static EscalationEvent.Raised Raised() => new(
        EscalationRule.SystemLevel, Day, "system", "The system is at OPEL 3", new Dictionary<string, string> { ["systemLevel"] = "3" }, [First, Second], Window, T0);

    private static EscalationEvent.Alerted Alerted(int step, OnCallContact contact, DateTimeOffset at) => new(new Alert(step, contact, at, at + Window));

    [Fact]
    public void Rule5_AlertsTheCoordinationCentre_NotTheExecutives()
    {
        var key = EscalationWorkflow.Key(Day, EscalationRule.PlacementUnplacedPastRequiredBy, "PL1");
        var raise = new EscalationCommand.Raise(
            EscalationRule.PlacementUnplacedPastRequiredBy, Day, "PL1", "Placement PL1 is unplaced past its required-by date",
            new Dictionary<string, string> { ["placementId"] = "PL1" }, [EscalationWorkflow.CoordinationCentre], Window, T0);

        var when = Escalation.Given().When(raise);

        var alert = when.Reactions(EscalationWorkflow.Definition.StreamId(key)).OfType<Reaction.Notify>().ShouldHaveSingleItem().Notification;
        alert.Recipients.ShouldBe([Recipient.Role("Coordinator")]);
        alert.Data["placementId"].ShouldBe("PL1");
    }

    [Fact]
    public void Raise_AlertsTheFirstContact_WithAnAcknowledgementTimer()
    {
        var when = Escalation.Given().When(Raise()).Then(Raised(), Alerted(1, First, T0));

        when.State.Status.ShouldBe(EscalationStatus.Alerted);
        var reactions = when.Reactions(Stream);
        var alert = reactions.OfType<Reaction.Notify>().ShouldHaveSingleItem().Notification;
        alert.Recipients.ShouldBe([Recipient.Role("Executive"), Recipient.Org("QZZ")]);
        alert.People.ShouldBe([First.EntraUserId!]); // reached in Teams
        alert.Severity.ShouldBe(Severity.Critical);
        alert.Data.Keys.ShouldNotContain("entraUserId");
        reactions.OfType<Reaction.Send>().ShouldHaveSingleItem().ShouldBe(
            new Reaction.Send(EscalationWorkflow.Name, Key, new EscalationCommand.AcknowledgementDue(1, T0 + Window), T0 + Window));
    }

    [Fact]
    public void TheSameConditionAgain_RaisesNothing()
    {
        Escalation.Given(Raised(), Alerted(1, First, T0)).When(Raise(T0.AddHours(2))).Then();
        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Acknowledged("Exec One", null, T0)).When(Raise(T0.AddHours(2))).Then();
    }

    [Fact]
    public void AcknowledgedInTime_StopsTheLadder()
    {
        var acknowledged = Escalation.Given(Raised(), Alerted(1, First, T0))
            .When(new EscalationCommand.Acknowledge("Exec One", "On it", T0.AddMinutes(10)))
            .Then(new EscalationEvent.Acknowledged("Exec One", "On it", T0.AddMinutes(10)));

        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Acknowledged("Exec One", "On it", T0.AddMinutes(10)))
            .When(new EscalationCommand.AcknowledgementDue(1, T0 + Window)).Then();
        acknowledged.State.Status.ShouldBe(EscalationStatus.Acknowledged);
    }

    [Fact]
    public void NotAcknowledged_ReAlertsTheNextContact_AndWrapsRoundTheLadder()
    {
        var second = Escalation.Given(Raised(), Alerted(1, First, T0))
            .When(new EscalationCommand.AcknowledgementDue(1, T0 + Window))
            .Then(Alerted(2, Second, T0 + Window));
        Escalation.Given(Raised(), Alerted(1, First, T0), Alerted(2, Second, T0 + Window))
            .When(new EscalationCommand.AcknowledgementDue(2, T0 + Window + Window))
            .Then(Alerted(3, First, T0 + Window + Window));

        second.Reactions(Stream).OfType<Reaction.Notify>().First().Notification.Title.ShouldStartWith("Not acknowledged");
    }

    [Fact]
    public void AStaleAcknowledgementTimer_ChangesNothing()
    {
        Escalation.Given(Raised(), Alerted(1, First, T0), Alerted(2, Second, T0 + Window))
            .When(new EscalationCommand.AcknowledgementDue(1, T0 + Window)).Then();
    }

    [Fact]
    public void Resolve_ClosesIt_WhetherAlertedOrAcknowledged_AndOnceOnly()
    {
        Escalation.Given(Raised(), Alerted(1, First, T0))
            .When(new EscalationCommand.Resolve("The system level fell to OPEL 2.", T0.AddHours(3)))
            .Then(new EscalationEvent.Resolved("The system level fell to OPEL 2.", T0.AddHours(3)));
        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Acknowledged("Exec One", null, T0))
            .When(new EscalationCommand.Resolve("Closed by the coordination centre", T0.AddHours(3)))
            .Then(new EscalationEvent.Resolved("Closed by the coordination centre", T0.AddHours(3)));
        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Resolved("x", T0))
            .When(new EscalationCommand.Resolve("again", T0.AddHours(4))).Then();
    }

    [Fact]
    public void ResolvingAConditionThatWasNeverRaised_OnlyNotesItClear()
    {
        var cleared = Escalation.Given().When(new EscalationCommand.Resolve("The system level fell to OPEL 2.", T0))
            .Then(new EscalationEvent.Cleared("The system level fell to OPEL 2.", T0));

        cleared.Reactions(Stream).ShouldBeEmpty();
        cleared.State.Status.ShouldBe(EscalationStatus.None);
        Escalation.Given(new EscalationEvent.Cleared("x", T0)).When(new EscalationCommand.Resolve("again", T0)).Then();
    }

    [Fact]
    public void ARaiseOvertakenByALaterAllClear_IsStale_ButALaterRaiseStillAlerts()
    {
        var cleared = new EscalationEvent.Cleared("The system level fell to OPEL 2.", T0.AddHours(1));

        Escalation.Given(cleared).When(Raise(T0)).Then();
        Escalation.Given(cleared).When(Raise(T0.AddHours(2)))
            .Then(Raised() with { At = T0.AddHours(2) }, Alerted(1, First, T0.AddHours(2)));
    }

    [Fact]
    public void AResolveOlderThanTheRaise_DoesNotCloseIt() =>
        Escalation.Given(Raised(), Alerted(1, First, T0)).When(new EscalationCommand.Resolve("stale", T0.AddMinutes(-5))).Then();

    [Fact]
    public void AcknowledgingAResolvedEscalation_IsRefused() =>
        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Resolved("x", T0))
            .When(new EscalationCommand.Acknowledge("Exec One", null, T0)).ThenRejected();

    private static readonly RoundSchedule Schedule = RoundSchedule.For(Day, new TimeOnly(10, 30), new TimeOnly(11, 0));

    private static RoundEvent.Opened Opened(EscalationPolicy policy) =>
        new(Day, ["ZA1"], new Dictionary<Sector, decimal> { [Sector.Acute] = 1m }, Schedule, T0.AddHours(-3), policy);

    private static RoundInputs OneTrustAt(int level, IReadOnlyList<OnCallContact>? ladder = null) => new(
        [new PartnerInput("ZA1", Sector.Acute, 1, level, Missing: false)],
        ladder is null ? new Dictionary<string, IReadOnlyList<OnCallContact>>() : new Dictionary<string, IReadOnlyList<OnCallContact>> { ["ZA1"] = ladder });

    private static List<Reaction.Send> Sends(DeciderWhen<RoundState, RoundCommand, RoundEvent> when) =>
        when.Reactions("round-2026-11-23").OfType<Reaction.Send>().ToList();

    [Fact]
    public void Round_RaisesRule1AtOpel3_AndResolvesItWhenTheLevelFalls()
    {
        var policy = new EscalationPolicy([First], Window, [EscalationRule.SystemLevel, EscalationRule.SystemLevelRose, EscalationRule.SustainedPressure], [2, 3]);
        var round = DeciderSpec.For(RoundWorkflow.Definition);

        var at3 = round.Given(Opened(policy)).When(new RoundCommand.Assess(T0, OneTrustAt(3)));
        var raised = Sends(at3).Select(s => ((EscalationCommand.Raise)s.Command).Rule).ToList();
        var at2 = round.Given([Opened(policy), .. at3.Events, new RoundEvent.LateReturn("ZA1", 2, true, T0.AddHours(2))])
            .When(new RoundCommand.Reassess(T0.AddHours(2), OneTrustAt(2) with { LateReturnsNoted = 1 }));
        var resolved = Sends(at2).ShouldHaveSingleItem();

        raised.ShouldBe([EscalationRule.SystemLevel, EscalationRule.SystemLevelRose], ignoreOrder: true); // 2 -> 3 rose; not yet 3 days at 3
        resolved.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.SystemLevel, "system"));
        resolved.Command.ShouldBeOfType<EscalationCommand.Resolve>();
    }

    [Fact]
    public void Round_SystemRules_CarryThePartnerBreakdown()
    {
        var policy = new EscalationPolicy([First], Window, [EscalationRule.SystemLevel, EscalationRule.SystemLevelRose], [2, 3]);

        var sends = Sends(DeciderSpec.For(RoundWorkflow.Definition).Given(Opened(policy)).When(new RoundCommand.Assess(T0, OneTrustAt(3))));

        sends.Count.ShouldBe(2);
        sends.ShouldAllBe(s => ((EscalationCommand.Raise)s.Command).Details["partners"] == "OPEL 3: ZA1");
    }

    [Fact]
    public void Breakdown_NamesThoseUnderPressureAndTheMissing_CountsTheRest_AndStaysShort()
    {
        List<PartnerAssessment> partners =
        [
            new("RZ2", Sector.Acute, 3, false), new("RZ1", Sector.Acute, 4, false), new("LZ4", Sector.Community, null, true),
            new("LZ5", Sector.Community, 2, true), new("RZ3", Sector.Acute, 2, false), new("RZ4", Sector.Acute, 1, false),
        ];

        RoundWorkflow.Breakdown(partners).ShouldBe("OPEL 4: RZ1; OPEL 3: RZ2; OPEL 2: 2; OPEL 1: 1; missing: LZ4, LZ5");

        var many = Enumerable.Range(0, 5000).Select(i => new PartnerAssessment($"Z{i:D4}", Sector.Acute, 4, false)).ToList();
        RoundWorkflow.Breakdown(many).ShouldBe($"OPEL 4: {string.Join(", ", many.Take(RoundWorkflow.BreakdownListed).Select(p => p.OdsCode))} and 4990 more");
        RoundWorkflow.Breakdown([]).ShouldBe("");
    }

    [Fact]
    public void Round_RaisesSustainedPressure_OnTheThirdDayAtOpel3()
    {
        var policy = new EscalationPolicy([First], Window, [EscalationRule.SustainedPressure], [3, 4]);

        var sends = Sends(DeciderSpec.For(RoundWorkflow.Definition).Given(Opened(policy)).When(new RoundCommand.Assess(T0, OneTrustAt(3))));

        sends.Select(s => ((EscalationCommand.Raise)s.Command).Rule).ShouldBe([EscalationRule.SustainedPressure]);
    }

    [Fact]
    public void Return_AtOpel4_RaisesRule2AtOnce_OnThePartnersOwnLadder()
    {
        var partnerLadder = new OnCallContact("Trust Director", null, "ZA1");
        var submitted = SubmitAt(4, T0.AddHours(-3), new ReturnFollowUp(Schedule.DeadlineAt, [partnerLadder], Window));

        var send = submitted.ShouldHaveSingleItem().ShouldBeOfType<Reaction.Send>();
        send.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.PartnerAtOpel4, "ZA1"));
        var raise = send.Command.ShouldBeOfType<EscalationCommand.Raise>();
        raise.Ladder.ShouldBe([partnerLadder]);
        raise.AcknowledgeWithin.ShouldBe(Window);
    }

    [Fact]
    public void Return_AtOpel4_WithRule2Off_OrBelow4_RaisesNothing()
    {
        SubmitAt(4, T0.AddHours(-3), new ReturnFollowUp(Schedule.DeadlineAt, null, Window)).ShouldBeEmpty();
        SubmitAt(3, T0.AddHours(-3), new ReturnFollowUp(Schedule.DeadlineAt, [First], Window)).ShouldBeEmpty();
    }

    [Fact]
    public void Return_NearOrAfterTheDeadline_IsAnnouncedToTheRound()
    {
        var nearDeadline = Schedule.DeadlineAt - RoundWorkflow.LateMargin;
        var sends = SubmitAt(2, nearDeadline, new ReturnFollowUp(Schedule.DeadlineAt, [First], Window));

        sends.ShouldBe([new Reaction.Send(RoundWorkflow.Name, "2026-11-23", new RoundCommand.ReturnArrived("ZA1", 1, nearDeadline))]);
        SubmitAt(2, nearDeadline.AddTicks(-1), new ReturnFollowUp(Schedule.DeadlineAt, [First], Window)).ShouldBeEmpty();
    }

    [Fact]
    public void Return_RevisingADayThatHasEnded_NeitherEscalatesNorTouchesTheRound()
    {
        SubmitAt(4, Schedule.ClosesAt.AddDays(2), new ReturnFollowUp(Schedule.DeadlineAt, [First], Window)).ShouldBeEmpty();
    }

    [Fact]
    public void Round_RaisesRule2AtAssessment_OnThePartnersLadder_OrTheSystemLadderWithoutOne()
    {
        var policy = new EscalationPolicy([First], Window, [EscalationRule.PartnerAtOpel4], []);
        var own = new OnCallContact("Trust Director", null, "ZA1");
        var round = DeciderSpec.For(RoundWorkflow.Definition).Given(Opened(policy));

        var withLadder = Sends(round.When(new RoundCommand.Assess(T0, OneTrustAt(4, [own])))).ShouldHaveSingleItem();
        var withoutLadder = Sends(round.When(new RoundCommand.Assess(T0, OneTrustAt(4)))).ShouldHaveSingleItem();

        withLadder.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.PartnerAtOpel4, "ZA1"));
        ((EscalationCommand.Raise)withLadder.Command).Ladder.ShouldBe([own]);
        ((EscalationCommand.Raise)withoutLadder.Command).Ladder.ShouldBe([First]);
    }

    private static List<Reaction> SubmitAt(int declaredLevel, DateTimeOffset at, ReturnFollowUp followUp) =>
        DeciderSpec.For(ReturnWorkflow.Definition).Given()
            .When(new ReturnCommand.Submit(
                Day, "ZA1", Sector.Acute, 1, new Dictionary<string, decimal>(), new Assessment(null, null, 0, 0, []), declaredLevel, "Synthetic (test)", null,
                "test", "Test User", at, followUp))
            .Reactions(ReturnWorkflow.Definition.StreamId(ReturnWorkflow.Key(Day, "ZA1"))).ToList();

    [Fact]
    public void MetAgainAfterItWasResolved_Reopens_AndAlertsFromTheTopOfTheLadder()
    {
        var reopened = Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Resolved("The system level fell to OPEL 2.", T0.AddHours(1)))
            .When(Raise(T0.AddHours(2)))
            .Then(
                Raised() with { At = T0.AddHours(2) },
                new EscalationEvent.Alerted(new Alert(2, First, T0.AddHours(2), T0.AddHours(2) + Window)));

        reopened.State.Status.ShouldBe(EscalationStatus.Alerted);
        reopened.State.Resolution.ShouldBeNull();
        Escalation.Given(Raised(), Alerted(1, First, T0), new EscalationEvent.Resolved("x", T0.AddHours(1))).When(Raise(T0.AddMinutes(30))).Then();
    }
}
