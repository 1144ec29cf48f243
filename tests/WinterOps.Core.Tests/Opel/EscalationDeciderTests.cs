using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Opel;

/// <summary>The escalation's decider (Given/When/Then, compared as its audited events are stored) and who hears of each event.</summary>
public class EscalationDeciderTests
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 11, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(30);
    private static readonly OnCallContact First = new("Exec One", "11111111-1111-1111-1111-111111111111", "QZZ");
    private static readonly OnCallContact Second = new("Exec Two", null, "QZZ");
    private static readonly string Key = EscalationWorkflow.Key(Day, EscalationRule.SystemLevel, "system");
    private static readonly DeciderSpec<EscalationState, EscalationCommand, EscalationEvent> Escalation = Of(Key);

    /// <summary>The decider of escalation <paramref name="key"/>; its reactions are the notices of each new event.</summary>
    private static DeciderSpec<EscalationState, EscalationCommand, EscalationEvent> Of(string key) =>
        DeciderSpec.For<EscalationState, EscalationCommand, EscalationEvent>(
            EscalationState.Initial, EscalationWorkflow.Decide, EscalationWorkflow.Evolve, e => DeciderSpec.Stored(EscalationWorkflow.Events, [e]).Single(),
            (state, e) => EscalationWorkflow.Notices(key, state, e).Select(n => new Reaction.Notify(n)));

    private static List<Notification> Notices(DeciderWhen<EscalationState, EscalationCommand, EscalationEvent> when) =>
        when.Reactions().Select(r => r.ShouldBeOfType<Reaction.Notify>().Notification).ToList();

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

        var alert = Notices(Of(key).Given().When(raise)).ShouldHaveSingleItem();

        alert.Recipients.ShouldBe([Recipient.Role("Coordinator")]);
        alert.Data["placementId"].ShouldBe("PL1");
        alert.People.ShouldBeNull();
    }

    [Fact]
    public void Raise_AlertsTheFirstContact_InTeams_UntilTheWindowEnds()
    {
        var when = Escalation.Given().When(Raise()).Then(Raised(), Alerted(1, First, T0));

        when.State.Status.ShouldBe(EscalationStatus.Alerted);
        var alert = Notices(when).ShouldHaveSingleItem(); // the acknowledgement timer is the orchestration's
        alert.Type.ShouldBe("EscalationAlert");
        alert.Title.ShouldBe("The system is at OPEL 3");
        alert.Recipients.ShouldBe([Recipient.Role("Executive"), Recipient.Org("QZZ")]);
        alert.People.ShouldBe([First.EntraUserId!]); // reached in Teams
        alert.Severity.ShouldBe(Severity.Critical);
        alert.Link.ShouldBe($"/escalations/{Key}");
        alert.Data["escalationId"].ShouldBe(Key);
        alert.Data["step"].ShouldBe("1");
        DateTimeOffset.Parse(alert.Data["acknowledgeBy"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(T0 + Window);
        alert.Data.Keys.ShouldNotContain("entraUserId");
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

        var alert = Notices(second).ShouldHaveSingleItem();
        alert.Title.ShouldBe("Not acknowledged: The system is at OPEL 3");
        alert.People.ShouldBeNull(); // Exec Two has no Entra id: reached through the role and organisation only
        alert.Data["step"].ShouldBe("2");
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

        Notices(cleared).ShouldBeEmpty();
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

    [Fact]
    public void Acknowledgement_AndResolution_TellTheCoordinators()
    {
        var acknowledged = Escalation.Given(Raised(), Alerted(1, First, T0)).When(new EscalationCommand.Acknowledge("Exec One", "On it", T0.AddMinutes(10)));
        var resolved = Escalation.Given(Raised(), Alerted(1, First, T0)).When(new EscalationCommand.Resolve("The system level fell to OPEL 2.", T0.AddHours(3)));

        var ack = Notices(acknowledged).ShouldHaveSingleItem();
        ack.Recipients.ShouldBe([Recipient.Role("Coordinator")]);
        ack.Title.ShouldBe("Acknowledged by Exec One: The system is at OPEL 3");
        var closed = Notices(resolved).ShouldHaveSingleItem();
        closed.Recipients.ShouldBe([Recipient.Role("Coordinator")]);
        closed.Title.ShouldBe("Resolved: The system is at OPEL 3");
        closed.Data["rule"].ShouldBe("SystemLevel");
    }

    [Fact]
    public void EveryCommandAndEvent_HasAStoredName()
    {
        EscalationWorkflow.Commands.Types.ShouldBe(ConcreteCases<EscalationCommand>(), ignoreOrder: true);
        EscalationWorkflow.Events.Types.ShouldBe(ConcreteCases<EscalationEvent>(), ignoreOrder: true);
    }

    private static List<Type> ConcreteCases<T>() =>
        [.. typeof(T).GetNestedTypes().Where(t => !t.IsAbstract && typeof(T).IsAssignableFrom(t))];
}
