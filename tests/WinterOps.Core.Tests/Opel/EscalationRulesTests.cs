using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Opel;

/// <summary>When the OPEL rules raise or resolve an escalation: rules 1-4 at an assessment, rule 2 at a partner's return.</summary>
public sealed class EscalationRulesTests
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 11, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(30);
    private static readonly OnCallContact First = new("Exec One", "11111111-1111-1111-1111-111111111111", "QZZ");
    private static readonly OnCallContact TrustDirector = new("Trust Director", null, "ZA1");

    private static RoundAssessment OneTrustAt(int level, IReadOnlyList<OnCallContact>? ladder = null, DateTimeOffset? at = null) => RoundWorkflow.Assess(
        new RoundInputs(
            [new PartnerInput("ZA1", Sector.Acute, 1, level, Missing: false)],
            ladder is null ? new Dictionary<string, IReadOnlyList<OnCallContact>>() : new Dictionary<string, IReadOnlyList<OnCallContact>> { ["ZA1"] = ladder }),
        new Dictionary<Sector, decimal> { [Sector.Acute] = 1m }, reassessment: false, at ?? T0);

    private static EscalationPolicy Policy(IReadOnlyList<int?> previousLevels, params EscalationRule[] rules) => new([First], Window, rules, previousLevels);

    private static List<Reaction.Send> Escalations(EscalationPolicy policy, RoundAssessment assessment) =>
        RoundWorkflow.Escalations(Day, policy, assessment).ToList();

    private static List<EscalationRule> Raised(IEnumerable<Reaction.Send> sends) =>
        sends.Select(s => s.Command.ShouldBeOfType<EscalationCommand.Raise>().Rule).ToList();

    [Fact]
    public void Rule1_IsRaisedAtOpel3_AndResolvedWhenTheLevelFalls()
    {
        var policy = Policy([2, 3], EscalationRule.SystemLevel, EscalationRule.SystemLevelRose, EscalationRule.SustainedPressure);

        var at3 = Escalations(policy, OneTrustAt(3));
        var at2 = Escalations(policy, OneTrustAt(2, at: T0.AddHours(2))).ShouldHaveSingleItem();

        Raised(at3).ShouldBe([EscalationRule.SystemLevel, EscalationRule.SystemLevelRose], ignoreOrder: true); // 2 -> 3 rose; not yet 3 days at 3
        at3.ShouldAllBe(s => s.Workflow == EscalationWorkflow.Name && s.DueAt == null);
        at2.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.SystemLevel, "system"));
        at2.Command.ShouldBe(new EscalationCommand.Resolve("The system level fell to OPEL 2.", T0.AddHours(2)));
    }

    [Fact]
    public void Rule1_GoesToTheSystemLadder_WithTheSystemLevelInItsSummary()
    {
        var raise = Escalations(Policy([], EscalationRule.SystemLevel), OneTrustAt(4)).ShouldHaveSingleItem().Command.ShouldBeOfType<EscalationCommand.Raise>();

        raise.Summary.ShouldBe("The system is at OPEL 4 (2026-11-23)");
        raise.Ladder.ShouldBe([First]);
        raise.AcknowledgeWithin.ShouldBe(Window);
        raise.At.ShouldBe(T0);
    }

    [Fact]
    public void SystemRules_CarryThePartnerBreakdown()
    {
        var sends = Escalations(Policy([2, 3], EscalationRule.SystemLevel, EscalationRule.SystemLevelRose), OneTrustAt(3));

        sends.Count.ShouldBe(2);
        sends.ShouldAllBe(s => ((EscalationCommand.Raise)s.Command).Details["partners"] == "OPEL 3: ZA1");
    }

    [Fact]
    public void Rule3_IsRaisedWhenTheLevelRoseSinceYesterday_NotWhenItHeld()
    {
        var rose = Escalations(Policy([1], EscalationRule.SystemLevelRose), OneTrustAt(2)).ShouldHaveSingleItem();

        ((EscalationCommand.Raise)rose.Command).Summary.ShouldBe("The system level rose from OPEL 1 to 2 (2026-11-23)");
        Escalations(Policy([2], EscalationRule.SystemLevelRose), OneTrustAt(2)).ShouldBeEmpty();
        Escalations(Policy([null], EscalationRule.SystemLevelRose), OneTrustAt(2)).ShouldBeEmpty(); // nothing known of yesterday
    }

    [Fact]
    public void Rule4_IsRaisedOnTheThirdDayAtOpel3_NotTheSecond()
    {
        Raised(Escalations(Policy([3, 4], EscalationRule.SustainedPressure), OneTrustAt(3))).ShouldBe([EscalationRule.SustainedPressure]);
        Escalations(Policy([3, 2], EscalationRule.SustainedPressure), OneTrustAt(3)).ShouldBeEmpty();
        Escalations(Policy([3], EscalationRule.SustainedPressure), OneTrustAt(3)).ShouldBeEmpty();
    }

    [Fact]
    public void Rule2AtAssessment_GoesToThePartnersLadder_OrTheSystemLadderWithoutOne()
    {
        var policy = Policy([], EscalationRule.PartnerAtOpel4);

        var withLadder = Escalations(policy, OneTrustAt(4, [TrustDirector])).ShouldHaveSingleItem();
        var withoutLadder = Escalations(policy, OneTrustAt(4)).ShouldHaveSingleItem();

        withLadder.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.PartnerAtOpel4, "ZA1"));
        ((EscalationCommand.Raise)withLadder.Command).Ladder.ShouldBe([TrustDirector]);
        ((EscalationCommand.Raise)withoutLadder.Command).Ladder.ShouldBe([First]);
        Escalations(policy, OneTrustAt(3)).ShouldBeEmpty();
    }

    [Fact]
    public void RulesNotInForce_RaiseNothing()
    {
        Escalations(Policy([3, 3]), OneTrustAt(4)).ShouldBeEmpty();
    }

    [Fact]
    public void Rule2AtAReturn_RaisesThePartnersEscalation_OnItsOwnLadder()
    {
        var send = RoundWorkflow.RaisePartnerAtOpel4(Day, "ZA1", [TrustDirector], Window, T0);

        send.Workflow.ShouldBe(EscalationWorkflow.Name);
        send.Key.ShouldBe(EscalationWorkflow.Key(Day, EscalationRule.PartnerAtOpel4, "ZA1"));
        var raise = send.Command.ShouldBeOfType<EscalationCommand.Raise>();
        (raise.Rule, raise.Date, raise.Subject, raise.Summary, raise.AcknowledgeWithin, raise.At).ShouldBe(
            (EscalationRule.PartnerAtOpel4, Day, "ZA1", "ZA1 is at OPEL 4 (2026-11-23)", Window, T0));
        raise.Ladder.ShouldBe([TrustDirector]);
    }

    private static ReturnRevision? Return(params (int Level, DateTimeOffset At)[] revisions) => revisions.Aggregate((ReturnRevision?)null, (latest, r) =>
        ReturnRules.Revise(
            latest,
            new ReturnSubmission(
                Day, "ZA1", Sector.Acute, 1, new Dictionary<string, decimal>(), new Assessment(null, null, 0, 0, []), r.Level, "Synthetic (test)", null,
                "test", "Test User", r.At)) ?? latest);

    [Fact]
    public void AtOpel4_AReturnAt4OnItsOwnDay_RaisesRule2()
    {
        ReturnRules.AtOpel4(Day, Return((4, T0))).ShouldBeTrue();
        ReturnRules.AtOpel4(Day, Return((4, London.StartOf(Day.AddDays(1)).AddTicks(-1)))).ShouldBeTrue();
    }

    [Fact]
    public void AtOpel4_ARevisionAfterMidnightLondon_ChangesTheRecord_NotTheAlerts()
    {
        ReturnRules.AtOpel4(Day, Return((4, London.StartOf(Day.AddDays(1))))).ShouldBeFalse();
        ReturnRules.AtOpel4(Day, Return((3, T0), (4, London.StartOf(Day.AddDays(2))))).ShouldBeFalse();
    }

    [Fact]
    public void AtOpel4_BelowOpel4_OrWithNoReturn_RaisesNothing()
    {
        ReturnRules.AtOpel4(Day, Return((3, T0))).ShouldBeFalse();
        ReturnRules.AtOpel4(Day, Return((4, T0), (3, T0.AddHours(1)))).ShouldBeFalse(); // the revision in force counts
        ReturnRules.AtOpel4(Day, null).ShouldBeFalse();
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
}
