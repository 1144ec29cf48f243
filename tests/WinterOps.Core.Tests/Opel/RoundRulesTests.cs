using System.Globalization;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Opel;

/// <summary>The daily round's pure rules, as its orchestration runs them: the assessment, the partners' and coordinators' notices, and which returns re-assess.</summary>
public sealed class RoundRulesTests
{
    private static readonly DateOnly Date = new(2026, 11, 23);
    private static readonly RoundSchedule Schedule = RoundSchedule.For(Date, new TimeOnly(10, 30), new TimeOnly(11, 0));
    private static readonly IReadOnlyDictionary<Sector, decimal> Weights = Scoring.DefaultPillarWeights;

    // Synthetic partners: two acute trusts of different sizes, a community and a mental-health provider.
    private static PartnerInput A1(int? level, bool missing = false) => new("ZA1", Sector.Acute, 600, level, missing);

    private static PartnerInput A2(int? level, bool missing = false) => new("ZA2", Sector.Acute, 400, level, missing);

    private static PartnerInput C1(int? level, bool missing = false) => new("ZC1", Sector.Community, 100, level, missing);

    private static PartnerInput M1(int? level, bool missing = false) => new("ZM1", Sector.MentalHealth, 200, level, missing);

    private static DateTimeOffset At(int hour, int minute = 0) => London.At(Date, new TimeOnly(hour, minute));

    private static RoundInputs Inputs(params PartnerInput[] partners) => new(partners, new Dictionary<string, IReadOnlyList<OnCallContact>>());

    /// <summary>A1 at 4 and C1 at 2 reported; A2 (3) and M1 (1) carried forward at the deadline.</summary>
    private static RoundInputs DeadlineInputs() => Inputs(A1(4), A2(3, missing: true), C1(2), M1(1, missing: true));

    private static RoundAssessment Assess(RoundInputs inputs, bool reassessment = false, DateTimeOffset? at = null) =>
        RoundWorkflow.Assess(inputs, Weights, reassessment, at ?? Schedule.DeadlineAt);

    [Fact]
    public void Key_IsTheLondonDate()
    {
        RoundWorkflow.Key(Date).ShouldBe("2026-11-23");
    }

    [Fact]
    public void Assess_CarriesMissingPartnersForward_AndFlagsThem()
    {
        var assessed = Assess(DeadlineInputs());

        assessed.Partners.ShouldBe([
            new PartnerAssessment("ZA1", Sector.Acute, 4, Missing: false), new PartnerAssessment("ZA2", Sector.Acute, 3, Missing: true),
            new PartnerAssessment("ZC1", Sector.Community, 2, Missing: false), new PartnerAssessment("ZM1", Sector.MentalHealth, 1, Missing: true)]);
        assessed.Missing().ShouldBe(["ZA2", "ZM1"]);
        assessed.Reassessment.ShouldBeFalse();
        assessed.At.ShouldBe(Schedule.DeadlineAt);
    }

    [Fact]
    public void Assess_ComputesTheSystemLevel_FromSizeWeightedPillars_AndPillarWeights()
    {
        var assessed = Assess(DeadlineInputs());

        // acute (600 x 4 + 400 x 3) / 1000 = 3.6; community 2; mental health 1 (carried);
        // (3.6 x 0.4 + 2 x 0.2 + 1 x 0.2) / 0.8 = 2.55 -> OPEL 3 (half up).
        assessed.Pillars.Select(p => (p.Sector, p.Score, p.Weight)).ShouldBe([
            (Sector.Acute, 3.6m, 0.4m), (Sector.Community, 2m, 0.2m), (Sector.MentalHealth, 1m, 0.2m)]);
        assessed.SystemScore.ShouldBe(2.55m);
        assessed.SystemLevel.ShouldBe(3);
    }

    [Fact]
    public void Assess_AMissingPartnerWithNoLevelToCarry_IsLeftOutOfTheSystemLevel()
    {
        var assessed = Assess(Inputs(A1(2), A2(2), C1(null, missing: true), M1(2)));

        assessed.Partners.Single(p => p.OdsCode == "ZC1").ShouldBe(new PartnerAssessment("ZC1", Sector.Community, null, Missing: true));
        assessed.Pillars.Select(p => p.Sector).ShouldBe([Sector.Acute, Sector.MentalHealth]);
        assessed.SystemLevel.ShouldBe(2);
    }

    [Fact]
    public void Reassess_WithALateReturn_CountsItsLevel_AndSaysItIsAReassessment()
    {
        var at = At(14);
        var reassessed = Assess(Inputs(A1(4), A2(4), C1(2), M1(1, missing: true)), reassessment: true, at);

        reassessed.Reassessment.ShouldBeTrue();
        reassessed.At.ShouldBe(at);
        reassessed.SystemScore.ShouldBe(2.75m); // (4 x 0.4 + 2 x 0.2 + 1 x 0.2) / 0.8
        reassessed.SystemLevel.ShouldBe(3);
        reassessed.Missing().ShouldBe(["ZM1"]);
    }

    [Fact]
    public void Requested_IsOneNotice_ToEveryExpectedPartner_WithTheDeadline()
    {
        var note = RoundWorkflow.Notice(RoundNotice.Requested, Date, Schedule, ["ZA1", "ZA2", "ZC1", "ZM1"]).ShouldNotBeNull();

        note.Type.ShouldBe("OpelReturnRequested");
        note.Recipients.ShouldBe([Recipient.Org("ZA1"), Recipient.Org("ZA2"), Recipient.Org("ZC1"), Recipient.Org("ZM1")]);
        note.Title.ShouldBe("Daily OPEL return for 2026-11-23 is open");
        note.Data["date"].ShouldBe("2026-11-23");
        DateTimeOffset.Parse(note.Data["deadline"], CultureInfo.InvariantCulture).ShouldBe(Schedule.DeadlineAt);
        note.Link.ShouldBe("/api/returns/2026-11-23");
    }

    [Fact]
    public void Reminder_GoesToThoseWithoutAReturn_WithTheConfiguredDeadline()
    {
        var late = RoundSchedule.For(Date, new TimeOnly(11, 30), new TimeOnly(12, 15));

        var note = RoundWorkflow.Notice(RoundNotice.Reminder, Date, late, ["ZA2", "ZC1"]).ShouldNotBeNull();

        note.Type.ShouldBe("OpelReturnReminder");
        note.Recipients.ShouldBe([Recipient.Org("ZA2"), Recipient.Org("ZC1")]);
        note.Title.ShouldBe("Reminder: your OPEL return for 2026-11-23 is due by 12:15");
    }

    [Fact]
    public void Reminder_InSummerTime_GivesTheDeadlineOnTheLondonClock()
    {
        var summer = new DateOnly(2026, 6, 15);
        var schedule = RoundSchedule.For(summer, new TimeOnly(10, 30), new TimeOnly(11, 0));

        RoundWorkflow.Notice(RoundNotice.Reminder, summer, schedule, ["ZA2"])!.Title.ShouldEndWith("due by 11:00"); // 10:00 UTC
    }

    [Fact]
    public void Missing_TellsThoseCarriedForward_AsAWarning()
    {
        var missing = Assess(DeadlineInputs()).Missing();

        var note = RoundWorkflow.Notice(RoundNotice.Missing, Date, Schedule, missing).ShouldNotBeNull();

        note.Type.ShouldBe("OpelReturnMissing");
        note.Recipients.ShouldBe([Recipient.Org("ZA2"), Recipient.Org("ZM1")]);
        note.Title.ShouldBe("No OPEL return for 2026-11-23 by the deadline: your last level is carried forward");
        note.Severity.ShouldBe(Severity.Warning);
    }

    [Theory]
    [InlineData(RoundNotice.Requested)]
    [InlineData(RoundNotice.Reminder)]
    [InlineData(RoundNotice.Missing)]
    public void ANoticeToNobody_IsNotSent(RoundNotice kind)
    {
        RoundWorkflow.Notice(kind, Date, Schedule, []).ShouldBeNull();
    }

    [Fact]
    public void Assessed_TellsTheCoordinators_TheSystemLevelAndHowManyAreMissing()
    {
        var note = RoundWorkflow.Assessed(Date, Assess(DeadlineInputs()));

        note.Type.ShouldBe("OpelRoundAssessed");
        note.Recipients.ShouldBe([Recipient.Role("Coordinator")]);
        note.Title.ShouldBe("Assessed 2026-11-23: system OPEL 3, 2 missing");
        note.Data["systemLevel"].ShouldBe("3");
        note.Data["missing"].ShouldBe("2");
    }

    [Fact]
    public void Assessed_AfterLateReturns_SaysReassessed()
    {
        var note = RoundWorkflow.Assessed(Date, Assess(Inputs(A1(4), A2(4), C1(2), M1(1, missing: true)), reassessment: true, At(14)));

        note.Title.ShouldBe("Re-assessed 2026-11-23: system OPEL 3, 1 missing");
        note.Data["missing"].ShouldBe("1");
    }

    [Fact]
    public void Assessed_WithNoLevelToGoOn_SaysTheSystemLevelIsUnknown()
    {
        var note = RoundWorkflow.Assessed(Date, Assess(Inputs(A1(null, missing: true), C1(null, missing: true))));

        note.Title.ShouldBe("Assessed 2026-11-23: system OPEL unknown, 2 missing");
        note.Data["systemLevel"].ShouldBe("");
    }

    [Fact]
    public void Announces_ReturnsFromTheMarginBeforeTheDeadline()
    {
        var fromHere = Schedule.DeadlineAt - RoundWorkflow.LateMargin;

        RoundWorkflow.Announces(Schedule, fromHere).ShouldBeTrue();
        RoundWorkflow.Announces(Schedule, fromHere.AddTicks(-1)).ShouldBeFalse();
        RoundWorkflow.Announces(Schedule, At(8)).ShouldBeFalse();
        RoundWorkflow.Announces(Schedule, At(14)).ShouldBeTrue();
    }

    [Fact]
    public void Announces_UntilMidnightLondon_Exclusive()
    {
        RoundWorkflow.Announces(Schedule, Schedule.ClosesAt.AddTicks(-1)).ShouldBeTrue();
        RoundWorkflow.Announces(Schedule, Schedule.ClosesAt).ShouldBeFalse();
        RoundWorkflow.Announces(Schedule, Schedule.ClosesAt.AddHours(3)).ShouldBeFalse();
    }

    /// <summary>2026-03-29 runs on BST from 01:00 UTC: the 11:00 deadline is 10:00 UTC, and the day ends at 23:00 UTC.</summary>
    [Theory]
    [InlineData("2026-03-29T09:57:59Z", false)]
    [InlineData("2026-03-29T09:58:00Z", true)]
    [InlineData("2026-03-29T22:59:59Z", true)]
    [InlineData("2026-03-29T23:00:00Z", false)]
    [InlineData("2026-03-29T23:30:00Z", false)]
    public void Announces_OnTheSpringChangeDay_FollowsTheLondonClock(string instant, bool announced)
    {
        var day = new DateOnly(2026, 3, 29);
        var schedule = RoundSchedule.For(day, new TimeOnly(10, 30), new TimeOnly(11, 0));

        RoundWorkflow.Announces(schedule, DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture)).ShouldBe(announced);
    }
}
