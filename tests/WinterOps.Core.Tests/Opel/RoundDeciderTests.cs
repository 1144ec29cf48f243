using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
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
    private static readonly IReadOnlyList<string> Expected = ["ZA1", "ZA2", "ZC1", "ZM1"];

    // Synthetic partners: two acute trusts of different sizes, a community and a mental-health provider.
    private static PartnerInput A1(int? level, bool missing = false) => new("ZA1", Sector.Acute, 600, level, missing);

    private static PartnerInput A2(int? level, bool missing = false) => new("ZA2", Sector.Acute, 400, level, missing);

    private static PartnerInput C1(int? level, bool missing = false) => new("ZC1", Sector.Community, 100, level, missing);

    private static PartnerInput M1(int? level, bool missing = false) => new("ZM1", Sector.MentalHealth, 200, level, missing);

    private static DateTimeOffset At(int hour, int minute = 0) => London.At(Date, new TimeOnly(hour, minute));

    private static RoundCommand.Open Open(DateTimeOffset? at = null) => new(Date, Expected, Weights, Schedule, at ?? OpensAt);

    private static RoundEvent.Opened Opened(DateTimeOffset? at = null) => new(Date, Expected, Weights, Schedule, at ?? OpensAt);

    private static RoundInputs Inputs(params PartnerInput[] partners) => new(partners, new Dictionary<string, IReadOnlyList<OnCallContact>>());

    /// <summary>A1 at 4 and C1 at 2 reported; A2 (3) and M1 (1) carried forward at the deadline.</summary>
    private static RoundInputs DeadlineInputs() => Inputs(A1(4), A2(3, missing: true), C1(2), M1(1, missing: true));

    private static RoundEvent.Assessed Assessed(RoundInputs inputs, bool reassessment, DateTimeOffset at) =>
        RoundWorkflow.Assessment(inputs, RoundState.Initial with { PillarWeights = Weights }, reassessment, at);

    private static RoundEvent.Assessed DeadlineAssessment() => Assessed(DeadlineInputs(), reassessment: false, Schedule.DeadlineAt);

    private static List<Reaction.Notify> Notes(IEnumerable<Reaction> reactions) => reactions.OfType<Reaction.Notify>().ToList();

    [Fact]
    public void Open_OpensTheRound_WithTheExpectedPartnersAndSchedule()
    {
        var when = Round.Given().When(Open()).Then(Opened());

        when.State.Phase.ShouldBe(RoundPhase.Collecting);
        when.State.Expected.ShouldBe(["ZA1", "ZA2", "ZC1", "ZM1"]);
        when.State.Schedule.ShouldBe(Schedule);
    }

    [Fact]
    public void Open_WhenAlreadyOpen_AddsNothing()
    {
        Round.Given(Opened()).When(Open(At(8, 5))).Then();
    }

    [Fact]
    public void Open_AfterAssessment_AddsNothing()
    {
        Round.Given(Opened(), DeadlineAssessment()).When(Open(At(12))).Then();
    }

    [Fact]
    public void Remind_RemindsThePartnersReadAsMissing()
    {
        Round.Given(Opened()).When(new RoundCommand.Remind(Schedule.ReminderAt, ["ZA2", "ZC1"]))
            .Then(new RoundEvent.Reminded(["ZA2", "ZC1"], Schedule.ReminderAt));
    }

    [Fact]
    public void Remind_RunLate_AfterTheDeadline_RemindsNobody()
    {
        // "Due by 11:00" after 11:00 helps no one: the assessment's missing-return notice follows instead.
        Round.Given(Opened()).When(new RoundCommand.Remind(Schedule.DeadlineAt, ["ZA2", "ZC1"])).Then();
    }

    [Fact]
    public void Remind_Twice_RemindsOnce()
    {
        Round.Given(Opened(), new RoundEvent.Reminded(["ZA1"], Schedule.ReminderAt)).When(new RoundCommand.Remind(Schedule.ReminderAt, ["ZA1"])).Then();
    }

    [Fact]
    public void Remind_WhenEveryoneReported_RemindsNobody()
    {
        Round.Given(Opened()).When(new RoundCommand.Remind(Schedule.ReminderAt, [])).Then();
    }

    [Fact]
    public void Remind_AfterAssessment_OrBeforeOpening_IsIgnored()
    {
        Round.Given(Opened(), DeadlineAssessment()).When(new RoundCommand.Remind(Schedule.ReminderAt, ["ZA2"])).Then();
        Round.Given().When(new RoundCommand.Remind(Schedule.ReminderAt, ["ZA2"])).Then();
    }

    [Fact]
    public void Timers_NeedTheirInputsRead_OnlyWhenTheyWouldAct()
    {
        var collecting = Round.Given(Opened()).State;
        var reminded = Round.Given(Opened(), new RoundEvent.Reminded(["ZA1"], Schedule.ReminderAt)).State;
        var assessed = Round.Given(Opened(), DeadlineAssessment()).State;
        var pending = Round.Given(Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14))).State;

        RoundWorkflow.NeedsInputs(new RoundCommand.Remind(Schedule.ReminderAt), collecting).ShouldBeTrue();
        RoundWorkflow.NeedsInputs(new RoundCommand.Remind(Schedule.ReminderAt), reminded).ShouldBeFalse();
        RoundWorkflow.NeedsInputs(new RoundCommand.Assess(Schedule.DeadlineAt), collecting).ShouldBeTrue();
        RoundWorkflow.NeedsInputs(new RoundCommand.Assess(Schedule.DeadlineAt), assessed).ShouldBeFalse();
        RoundWorkflow.NeedsInputs(new RoundCommand.Assess(Schedule.DeadlineAt), RoundState.Initial).ShouldBeFalse();
        RoundWorkflow.NeedsInputs(new RoundCommand.Reassess(At(14)), assessed).ShouldBeFalse();
        RoundWorkflow.NeedsInputs(new RoundCommand.Reassess(At(14)), pending).ShouldBeTrue();
        RoundWorkflow.NeedsInputs(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs()), collecting).ShouldBeFalse();
    }

    [Fact]
    public void Assess_WithoutItsInputs_IsRejected()
    {
        Round.Given(Opened()).When(new RoundCommand.Assess(Schedule.DeadlineAt)).ThenRejected();
    }

    [Fact]
    public void Assess_AtTheDeadline_CarriesMissingPartnersForward_AndFlagsThem()
    {
        var when = Round.Given(Opened()).When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs())).Then(DeadlineAssessment());

        var assessed = (RoundEvent.Assessed)when.Events.Single();
        assessed.Partners.ShouldBe([
            new PartnerAssessment("ZA1", Sector.Acute, 4, Missing: false), new PartnerAssessment("ZA2", Sector.Acute, 3, Missing: true),
            new PartnerAssessment("ZC1", Sector.Community, 2, Missing: false), new PartnerAssessment("ZM1", Sector.MentalHealth, 1, Missing: true)]);
        assessed.Missing().ShouldBe(["ZA2", "ZM1"]);
        when.State.Phase.ShouldBe(RoundPhase.Assessed);
    }

    [Fact]
    public void Assess_ComputesTheSystemLevel_FromSizeWeightedPillars_AndPillarWeights()
    {
        var assessed = (RoundEvent.Assessed)Round.Given(Opened()).When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs())).Events.Single();

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
        var assessed = (RoundEvent.Assessed)Round.Given(Opened())
            .When(new RoundCommand.Assess(Schedule.DeadlineAt, Inputs(A1(2), A2(2), C1(null, missing: true), M1(2)))).Events.Single();

        assessed.Partners.Single(p => p.OdsCode == "ZC1").ShouldBe(new PartnerAssessment("ZC1", Sector.Community, null, Missing: true));
        assessed.Pillars.Select(p => p.Sector).ShouldBe([Sector.Acute, Sector.MentalHealth]);
        assessed.SystemLevel.ShouldBe(2);
    }

    [Fact]
    public void Assess_Twice_AssessesOnce_AndBeforeOpening_IsIgnored()
    {
        Round.Given(Opened(), DeadlineAssessment()).When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs())).Then();
        Round.Given().When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs())).Then();
    }

    [Fact]
    public void LateReturn_BeforeTheAssessment_IsNoted_SoAnAssessmentReadBeforeItKnowsToReassess()
    {
        var when = Round.Given(Opened()).When(new RoundCommand.ReturnArrived("ZA2", 1, At(10, 59)))
            .Then(new RoundEvent.LateReturn("ZA2", 1, Reassess: false, At(10, 59)));

        when.State.ReassessPending.ShouldBeFalse();
        when.State.LateReturnsNoted.ShouldBe(1);
        when.Reactions(Stream).ShouldBeEmpty();
    }

    [Fact]
    public void Assess_WithInputsReadBeforeALateReturnWasNoted_AsksForOneReassessment_ShortlyAfter()
    {
        var inputs = DeadlineInputs(); // read when the round had noted no late return
        var when = Round.Given(Opened(), new RoundEvent.LateReturn("ZA2", 1, false, At(10, 59)))
            .When(new RoundCommand.Assess(Schedule.DeadlineAt, inputs));

        var assessed = when.Events.OfType<RoundEvent.Assessed>().ShouldHaveSingleItem();
        assessed.ReassessDue.ShouldBeTrue();
        assessed.SystemLevel.ShouldBe(DeadlineAssessment().SystemLevel); // decided on what was read
        when.State.ReassessPending.ShouldBeTrue();
        var due = Schedule.DeadlineAt + RoundWorkflow.ReassessDelay;
        when.Reactions(Stream).OfType<Reaction.Send>().Where(s => s.Workflow == RoundWorkflow.Name)
            .ShouldBe([new Reaction.Send(RoundWorkflow.Name, "2026-11-23", new RoundCommand.Reassess(due), due)]);
    }

    [Fact]
    public void Assess_WithInputsReadAfterTheLateReturnsWereNoted_IsFinal()
    {
        var when = Round.Given(Opened(), new RoundEvent.LateReturn("ZA2", 1, false, At(10, 59)))
            .When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs() with { LateReturnsNoted = 1 }));

        when.Events.OfType<RoundEvent.Assessed>().ShouldHaveSingleItem().ReassessDue.ShouldBeFalse();
        when.State.ReassessPending.ShouldBeFalse();
        when.Reactions(Stream).OfType<Reaction.Send>().ShouldNotContain(s => s.Workflow == RoundWorkflow.Name);
    }

    [Fact]
    public void Reassess_WithInputsReadBeforeAnotherLateReturnWasNoted_AsksForOneMore()
    {
        var at = At(14) + RoundWorkflow.ReassessDelay;
        var when = Round.Given(
                Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14)), new RoundEvent.LateReturn("ZM1", 1, false, At(14, 0)))
            .When(new RoundCommand.Reassess(at, DeadlineInputs() with { LateReturnsNoted = 1 }));

        when.Events.OfType<RoundEvent.Assessed>().ShouldHaveSingleItem().ReassessDue.ShouldBeTrue();
        when.State.ReassessPending.ShouldBeTrue();
        when.Reactions(Stream).OfType<Reaction.Send>().Count(s => s.Workflow == RoundWorkflow.Name).ShouldBe(1);
    }

    [Fact]
    public void LateReturn_AfterAssessment_AsksForOneReassessment_ShortlyAfter()
    {
        var late = At(14);
        var when = Round.Given(Opened(), DeadlineAssessment()).When(new RoundCommand.ReturnArrived("ZA2", 1, late))
            .Then(new RoundEvent.LateReturn("ZA2", 1, Reassess: true, late));

        when.State.ReassessPending.ShouldBeTrue();
        var due = late + RoundWorkflow.ReassessDelay;
        when.Reactions(Stream).ShouldBe([new Reaction.Send(RoundWorkflow.Name, "2026-11-23", new RoundCommand.Reassess(due), due)]);
    }

    [Fact]
    public void LateReturn_WhileAReassessmentIsPending_IsNoted_WithoutAnotherTimer()
    {
        var when = Round.Given(Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14)))
            .When(new RoundCommand.ReturnArrived("ZM1", 1, At(14, 1)))
            .Then(new RoundEvent.LateReturn("ZM1", 1, Reassess: false, At(14, 1)));

        when.Reactions(Stream).ShouldBeEmpty();
    }

    [Fact]
    public void Reassess_WithTheLateReturns_IsAReassessment_AndClearsThePendingRequest()
    {
        var at = At(14) + RoundWorkflow.ReassessDelay;
        var inputs = Inputs(A1(4), A2(4), C1(2), M1(1, missing: true)) with { LateReturnsNoted = 1 };
        var when = Round.Given(Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14)))
            .When(new RoundCommand.Reassess(at, inputs))
            .Then(Assessed(inputs, reassessment: true, at));

        when.State.ReassessPending.ShouldBeFalse();
        when.State.Assessment!.Reassessment.ShouldBeTrue();
        when.State.Assessment.SystemScore.ShouldBe(2.75m); // (4 x 0.4 + 2 x 0.2 + 1 x 0.2) / 0.8
        when.State.Assessment.SystemLevel.ShouldBe(3);
    }

    [Fact]
    public void Reassess_WhenNothingAskedForIt_AddsNothing()
    {
        Round.Given(Opened(), DeadlineAssessment()).When(new RoundCommand.Reassess(At(15), DeadlineInputs())).Then();
    }

    [Fact]
    public void LateReturn_DeliveredTwice_AfterItsReassessment_AsksForOneMore_WhichReadsTheSameReturns()
    {
        // A redelivery has the same command id and is dropped by the engine; a different late return
        // after the re-assessment asks again.
        var at = At(14) + RoundWorkflow.ReassessDelay;
        Round.Given(Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14)), Assessed(DeadlineInputs(), true, at))
            .When(new RoundCommand.ReturnArrived("ZA2", 2, At(15)))
            .Then(new RoundEvent.LateReturn("ZA2", 2, Reassess: true, At(15)));
    }

    [Fact]
    public void Return_AtOrAfterMidnightLondon_ChangesNothing()
    {
        var given = Round.Given(Opened(), DeadlineAssessment());

        given.When(new RoundCommand.ReturnArrived("ZA2", 1, Schedule.ClosesAt)).Then();
        given.When(new RoundCommand.ReturnArrived("ZA2", 1, Schedule.ClosesAt.AddHours(3))).Then();
    }

    [Fact]
    public void Return_JustBeforeMidnightLondon_IsStillReassessed()
    {
        var justBefore = Schedule.ClosesAt.AddTicks(-1);
        Round.Given(Opened(), DeadlineAssessment()).When(new RoundCommand.ReturnArrived("ZA2", 1, justBefore))
            .Then(new RoundEvent.LateReturn("ZA2", 1, Reassess: true, justBefore));
    }

    [Fact]
    public void Return_BeforeTheRoundOpens_ChangesNothing_TheAssessmentReadsIt()
    {
        Round.Given().When(new RoundCommand.ReturnArrived("ZA1", 1, At(7))).Then();
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
    public void Reminded_RemindsEachMissingPartnerOnce_WithTheConfiguredDeadline()
    {
        var late = RoundSchedule.For(Date, new TimeOnly(11, 30), new TimeOnly(12, 15));
        var opened = new RoundEvent.Opened(Date, Expected, Weights, late, OpensAt);
        var reactions = Round.Given(opened).When(new RoundCommand.Remind(late.ReminderAt, ["ZA2", "ZC1"]))
            .Then(new RoundEvent.Reminded(["ZA2", "ZC1"], late.ReminderAt)).Reactions(Stream);

        var note = Notes(reactions).ShouldHaveSingleItem().Notification;
        note.Recipients.ShouldBe([Recipient.Org("ZA2"), Recipient.Org("ZC1")]);
        note.Type.ShouldBe("OpelReturnReminder");
        note.Title.ShouldEndWith("due by 12:15");
    }

    [Fact]
    public void FirstAssessment_TellsTheCoordinators_AndEachMissingPartner()
    {
        var reactions = Round.Given(Opened()).When(new RoundCommand.Assess(Schedule.DeadlineAt, DeadlineInputs())).Then(DeadlineAssessment()).Reactions(Stream);

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
        var at = At(14) + RoundWorkflow.ReassessDelay;
        var spec = Round.Given(Opened(), DeadlineAssessment(), new RoundEvent.LateReturn("ZA2", 1, true, At(14)))
            .When(new RoundCommand.Reassess(at, Inputs(A1(4), A2(4), C1(2), M1(1, missing: true))));

        var notes = Notes(spec.Reactions(Stream));
        notes.Select(n => n.Notification.Type).ShouldBe(["OpelRoundAssessed"]);
        notes[0].Notification.Title.ShouldStartWith("Re-assessed");
        notes[0].Notification.Data["missing"].ShouldBe("1");
    }
}
