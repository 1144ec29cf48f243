using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Tests.Placements;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Opel;

/// <summary>The daily round's decider and reactions: Given(events).When(command).Then(events), compared in stored form.</summary>
public sealed class RoundDeciderTests
{
    private static readonly DeciderSpec<RoundState, RoundCommand, RoundEvent> Round = DeciderSpec.For(RoundWorkflow.Definition);
    private static readonly DateOnly Date = new(2026, 11, 23);
    private static readonly string Stream = RoundWorkflow.Definition.StreamId(RoundWorkflow.Key(Date));
    private static readonly RoundSchedule Schedule = RoundSchedule.For(Date, new TimeOnly(10, 30), new TimeOnly(11, 0));
    private static readonly DateTimeOffset OpensAt = London.At(Date, new TimeOnly(8, 0));
    private static readonly IReadOnlyDictionary<Sector, decimal> Weights = Scoring.DefaultPillarWeights;

    // Synthetic partners: two acute trusts of different sizes, a community and a mental-health provider.
    private static readonly ExpectedPartner A1 = new("ZA1", Sector.Acute, 600, CarriedLevel: 2);
    private static readonly ExpectedPartner A2 = new("ZA2", Sector.Acute, 400, CarriedLevel: 3);
    private static readonly ExpectedPartner C1 = new("ZC1", Sector.Community, 100, CarriedLevel: null);
    private static readonly ExpectedPartner M1 = new("ZM1", Sector.MentalHealth, 200, CarriedLevel: 1);
    private static readonly IReadOnlyList<ExpectedPartner> Expected = [A1, A2, C1, M1];

    private static DateTimeOffset At(int hour, int minute = 0) => London.At(Date, new TimeOnly(hour, minute));

    private static RoundCommand.Open Open(DateTimeOffset? at = null) => new(Date, Expected, Weights, Schedule, at ?? OpensAt);

    private static RoundEvent.Opened Opened(DateTimeOffset? at = null) => new(Date, Expected, Weights, Schedule, at ?? OpensAt);

    private static RoundCommand.RecordReturn Return(ExpectedPartner p, int level, int revision = 1, DateTimeOffset? at = null) =>
        new(p.OdsCode, p.Sector, p.SizeWeight, level, revision, at ?? At(9));

    private static RoundEvent.ReturnRecorded Recorded(ExpectedPartner p, int level, int revision = 1, DateTimeOffset? at = null) =>
        new(p.OdsCode, p.Sector, p.SizeWeight, level, revision, at ?? At(9));

    private static RoundEvent.Assessed Assessed(
        IReadOnlyList<PartnerAssessment> partners, IReadOnlyList<string> missing, bool reassessment, DateTimeOffset at)
    {
        var sizes = Expected.ToDictionary(e => e.OdsCode, e => e.SizeWeight);
        var system = Scoring.System(
            partners.Where(p => p.EffectiveLevel is not null).Select(p => new PartnerLevel(p.OdsCode, p.Sector, sizes[p.OdsCode], p.EffectiveLevel!.Value)), Weights);
        return new RoundEvent.Assessed(partners, missing, system.Level, system.Score, system.Pillars, reassessment, at);
    }

    private static PartnerAssessment Reported(ExpectedPartner p, int level) => new(p.OdsCode, p.Sector, level, Missing: false);

    private static PartnerAssessment Carried(ExpectedPartner p) => new(p.OdsCode, p.Sector, p.CarriedLevel, Missing: true);

    /// <summary>A1 at 4 and C1 at 2 reported; A2 (3) and M1 (1) carried forward at the deadline.</summary>
    private static RoundEvent.Assessed DeadlineAssessment() =>
        Assessed([Reported(A1, 4), Carried(A2), Reported(C1, 2), Carried(M1)], ["ZA2", "ZM1"], reassessment: false, Schedule.DeadlineAt);

    private static List<Reaction.Notify> Notes(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Notify>().ToList();

    [Fact]
    public void Open_OpensTheRound_WithTheExpectedPartnersAndSchedule()
    {
        var when = Round.Given().When(Open()).Then(Opened());

        when.State.Phase.ShouldBe(RoundPhase.Collecting);
        when.State.Expected.Select(e => e.OdsCode).ShouldBe(["ZA1", "ZA2", "ZC1", "ZM1"]);
        when.State.Schedule.ShouldBe(Schedule);
        when.State.Missing.ShouldBe(["ZA1", "ZA2", "ZC1", "ZM1"]);
    }

    [Fact]
    public void Open_WhenAlreadyOpen_AddsNothing()
    {
        Round.Given(Opened()).When(Open(At(8, 5))).Then();
    }

    [Fact]
    public void Open_AfterAssessment_AddsNothing()
    {
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(Open(At(12))).Then();
    }

    [Fact]
    public void Return_BeforeOpening_IsKept_AndCountsAtTheDeadline()
    {
        var early = At(7, 30);
        Round.Given().When(Return(A1, 4, at: early)).Then(Recorded(A1, 4, at: early));

        var opened = Round.Given(Recorded(A1, 4, at: early)).When(Open()).Then(Opened());
        opened.State.Returns.Keys.ShouldBe(["ZA1"]);
        opened.State.Missing.ShouldBe(["ZA2", "ZC1", "ZM1"]);

        Round.Given(Recorded(A1, 4, at: early), Opened(), Recorded(C1, 2)).When(new RoundCommand.Assess(Schedule.DeadlineAt))
            .Then(Assessed([Reported(A1, 4), Carried(A2), Reported(C1, 2), Carried(M1)], ["ZA2", "ZM1"], reassessment: false, Schedule.DeadlineAt));
    }

    [Fact]
    public void Return_IsRecorded_WhileCollecting()
    {
        var when = Round.Given(Opened()).When(Return(A2, 3)).Then(Recorded(A2, 3));

        when.State.Missing.ShouldBe(["ZA1", "ZC1", "ZM1"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Return_OfAnOlderOrEqualRevision_AddsNothing(int revision)
    {
        Round.Given(Opened(), Recorded(A1, 3, revision: 2)).When(Return(A1, 1, revision)).Then();
    }

    [Fact]
    public void Return_OfANewerRevision_ReplacesTheLevel()
    {
        var when = Round.Given(Opened(), Recorded(A1, 3, revision: 1)).When(Return(A1, 1, revision: 2, at: At(10))).Then(Recorded(A1, 1, revision: 2, at: At(10)));

        when.State.Returns["ZA1"].EffectiveLevel.ShouldBe(1);
        when.State.Returns["ZA1"].Revision.ShouldBe(2);
    }

    [Fact]
    public void Remind_AsksOnlyPartnersThatHaveNotReported()
    {
        Round.Given(Opened(), Recorded(A1, 2), Recorded(M1, 1)).When(new RoundCommand.Remind(Schedule.ReminderAt))
            .Then(new RoundEvent.Reminded(["ZA2", "ZC1"], Schedule.ReminderAt));
    }

    [Fact]
    public void Remind_Twice_RemindsOnce()
    {
        Round.Given(Opened(), new RoundEvent.Reminded(["ZA1", "ZA2", "ZC1", "ZM1"], Schedule.ReminderAt))
            .When(new RoundCommand.Remind(Schedule.ReminderAt)).Then();
    }

    [Fact]
    public void Remind_WhenEveryoneReported_RemindsNobody()
    {
        Round.Given(Opened(), Recorded(A1, 2), Recorded(A2, 2), Recorded(C1, 2), Recorded(M1, 2))
            .When(new RoundCommand.Remind(Schedule.ReminderAt)).Then();
    }

    [Fact]
    public void Remind_AfterAssessment_IsIgnored()
    {
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(new RoundCommand.Remind(Schedule.ReminderAt)).Then();
    }

    [Fact]
    public void Remind_BeforeOpening_IsIgnored()
    {
        Round.Given().When(new RoundCommand.Remind(Schedule.ReminderAt)).Then();
    }

    [Fact]
    public void Assess_AtTheDeadline_CarriesMissingPartnersForward_AndFlagsThem()
    {
        var when = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2)).When(new RoundCommand.Assess(Schedule.DeadlineAt))
            .Then(DeadlineAssessment());

        var assessed = (RoundEvent.Assessed)when.Events.Single();
        assessed.Partners.Single(p => p.OdsCode == "ZA2").ShouldBe(new PartnerAssessment("ZA2", Sector.Acute, 3, Missing: true));
        assessed.Partners.Single(p => p.OdsCode == "ZM1").ShouldBe(new PartnerAssessment("ZM1", Sector.MentalHealth, 1, Missing: true));
        assessed.Partners.Single(p => p.OdsCode == "ZA1").ShouldBe(new PartnerAssessment("ZA1", Sector.Acute, 4, Missing: false));
        when.State.Phase.ShouldBe(RoundPhase.Assessed);
    }

    [Fact]
    public void Assess_ComputesTheSystemLevel_FromSizeWeightedPillars_AndPillarWeights()
    {
        var when = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2)).When(new RoundCommand.Assess(Schedule.DeadlineAt));

        var assessed = (RoundEvent.Assessed)when.Events.Single();
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
        var when = Round.Given(Opened(), Recorded(A1, 2), Recorded(A2, 2), Recorded(M1, 2)).When(new RoundCommand.Assess(Schedule.DeadlineAt))
            .Then(Assessed([Reported(A1, 2), Reported(A2, 2), new PartnerAssessment("ZC1", Sector.Community, null, Missing: true), Reported(M1, 2)],
                ["ZC1"], reassessment: false, Schedule.DeadlineAt));

        var assessed = (RoundEvent.Assessed)when.Events.Single();
        assessed.Pillars.Select(p => p.Sector).ShouldBe([Sector.Acute, Sector.MentalHealth]);
        assessed.SystemLevel.ShouldBe(2);
    }

    [Fact]
    public void Assess_Twice_AssessesOnce()
    {
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(new RoundCommand.Assess(Schedule.DeadlineAt)).Then();
    }

    [Fact]
    public void Assess_BeforeOpening_IsIgnored()
    {
        Round.Given().When(new RoundCommand.Assess(Schedule.DeadlineAt)).Then();
    }

    [Fact]
    public void LateReturn_AfterAssessment_IsRecordedAndReassessed()
    {
        var late = At(14);
        var when = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(Return(A2, 4, at: late))
            .Then(
                Recorded(A2, 4, at: late),
                Assessed([Reported(A1, 4), Reported(A2, 4), Reported(C1, 2), Carried(M1)], ["ZM1"], reassessment: true, late));

        when.State.Assessment!.Reassessment.ShouldBeTrue();
        when.State.Assessment.SystemLevel.ShouldBe(3); // (4 x 0.4 + 2 x 0.2 + 1 x 0.2) / 0.8 = 2.75
        when.State.Assessment.SystemScore.ShouldBe(2.75m);
    }

    [Fact]
    public void Revision_AfterAssessment_Reassesses_WithTheNewLevel()
    {
        var revised = At(15);
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(Return(A1, 1, revision: 2, at: revised))
            .Then(
                Recorded(A1, 1, revision: 2, at: revised),
                Assessed([Reported(A1, 1), Carried(A2), Reported(C1, 2), Carried(M1)], ["ZA2", "ZM1"], reassessment: true, revised));
    }

    [Fact]
    public void Revision_AfterAssessment_DeliveredTwice_ReassessesOnce()
    {
        var revised = At(15);
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment(), Recorded(A1, 1, revision: 2, at: revised),
                Assessed([Reported(A1, 1), Carried(A2), Reported(C1, 2), Carried(M1)], ["ZA2", "ZM1"], reassessment: true, revised))
            .When(Return(A1, 1, revision: 2, at: revised)).Then();
    }

    [Fact]
    public void Return_AtOrAfterMidnightLondon_IsRecordedWithoutReassessment()
    {
        var given = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment());

        given.When(Return(A2, 4, at: Schedule.ClosesAt)).Then(Recorded(A2, 4, at: Schedule.ClosesAt));
        given.When(Return(A2, 4, at: Schedule.ClosesAt.AddHours(3))).Then(Recorded(A2, 4, at: Schedule.ClosesAt.AddHours(3)));
    }

    [Fact]
    public void Return_JustBeforeMidnightLondon_IsStillReassessed()
    {
        var justBefore = Schedule.ClosesAt.AddTicks(-1);
        Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(Return(A2, 4, at: justBefore))
            .Then(
                Recorded(A2, 4, at: justBefore),
                Assessed([Reported(A1, 4), Reported(A2, 4), Reported(C1, 2), Carried(M1)], ["ZM1"], reassessment: true, justBefore));
    }

    [Fact]
    public void Opened_RequestsAReturnFromEachExpectedPartner_AndSetsTheReminderAndDeadlineTimers()
    {
        var reactions = Round.Given().When(Open()).Then(Opened()).Reactions(Stream);

        var notes = Notes(reactions);
        notes.Count.ShouldBe(1); // one outbox row for every partner, however many there are
        notes.SelectMany(n => n.Notification.Recipients).ShouldBe([Recipient.Org("ZA1"), Recipient.Org("ZA2"), Recipient.Org("ZC1"), Recipient.Org("ZM1")]);
        notes.ShouldAllBe(n => n.Notification.Type == "OpelReturnRequested");
        notes.ShouldAllBe(n => n.Notification.Data["date"] == "2026-11-23");
        DateTimeOffset.Parse(notes[0].Notification.Data["deadline"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(Schedule.DeadlineAt);
        reactions.OfType<Reaction.Send>().ShouldBe([
            new Reaction.Send(RoundWorkflow.Name, "2026-11-23", new RoundCommand.Remind(Schedule.ReminderAt), Schedule.ReminderAt),
            new Reaction.Send(RoundWorkflow.Name, "2026-11-23", new RoundCommand.Assess(Schedule.DeadlineAt), Schedule.DeadlineAt),
        ]);
    }

    [Fact]
    public void Reminded_RemindsEachMissingPartnerOnce()
    {
        var reactions = Round.Given(Opened(), Recorded(A1, 2), Recorded(M1, 1)).When(new RoundCommand.Remind(Schedule.ReminderAt))
            .Then(new RoundEvent.Reminded(["ZA2", "ZC1"], Schedule.ReminderAt)).Reactions(Stream);

        reactions.Count.ShouldBe(1);
        var notes = Notes(reactions);
        notes.SelectMany(n => n.Notification.Recipients).ShouldBe([Recipient.Org("ZA2"), Recipient.Org("ZC1")]);
        notes.ShouldAllBe(n => n.Notification.Type == "OpelReturnReminder");
    }

    [Fact]
    public void FirstAssessment_TellsTheCoordinators_AndEachMissingPartner()
    {
        var reactions = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2)).When(new RoundCommand.Assess(Schedule.DeadlineAt))
            .Then(DeadlineAssessment()).Reactions(Stream);

        reactions.Count.ShouldBe(2);
        var notes = Notes(reactions);
        notes[0].Notification.Type.ShouldBe("OpelRoundAssessed");
        notes[0].Notification.To.ShouldBe(Recipient.Role("Coordinator"));
        notes[0].Notification.Data["systemLevel"].ShouldBe("3");
        notes[0].Notification.Data["missing"].ShouldBe("2");
        notes.Skip(1).SelectMany(n => n.Notification.Recipients.Select(r => (n.Notification.Type, r))).ShouldBe([
            ("OpelReturnMissing", Recipient.Org("ZA2")), ("OpelReturnMissing", Recipient.Org("ZM1"))]);
    }

    [Fact]
    public void Reassessment_TellsTheCoordinators_ButDoesNotRepeatTheMissingNotices()
    {
        var spec = Round.Given(Opened(), Recorded(A1, 4), Recorded(C1, 2), DeadlineAssessment()).When(Return(A2, 4, at: At(14)));

        spec.Events.Count.ShouldBe(2);
        var notes = Notes(spec.Reactions(Stream));
        notes.Select(n => n.Notification.Type).ShouldBe(["OpelRoundAssessed"]);
        notes[0].Notification.Title.ShouldStartWith("Re-assessed");
        notes[0].Notification.Data["missing"].ShouldBe("1");
    }
}
