using System.Globalization;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Opel;

public enum RoundPhase
{
    /// <summary>Not opened yet (returns that arrive early are kept).</summary>
    NotOpen,

    /// <summary>Opened at 08:00: partners asked, returns arriving.</summary>
    Collecting,

    /// <summary>Assessed at the deadline; late returns and revisions re-assess until midnight.</summary>
    Assessed,
}

/// <summary>
/// How the round escalates (rules 1-4 of DOMAIN.md): the ICS on-call ladder, the acknowledgement
/// window, the rules in force, and the system levels of the previous days (newest first) for the
/// rise and sustained-pressure rules.
/// </summary>
public sealed record EscalationPolicy(
    IReadOnlyList<OnCallContact> SystemLadder, TimeSpan AcknowledgeWithin, IReadOnlyList<EscalationRule> Rules, IReadOnlyList<int?> PreviousSystemLevels);

/// <summary>A partner's level in an assessment; <see cref="Missing"/> when carried forward for want of a return.</summary>
public sealed record PartnerAssessment(string OdsCode, Sector Sector, int? EffectiveLevel, bool Missing);

/// <summary>A partner as the round reads it at the deadline: its level today, or carried forward when missing.</summary>
public sealed record PartnerInput(string OdsCode, Sector Sector, decimal SizeWeight, int? Level, bool Missing);

/// <summary>
/// What an assessment is made of, read from the partner registry and the day's return streams when a
/// round timer falls due: every partner, and the on-call ladders of those at OPEL 4.
/// <paramref name="LateReturnsNoted"/> is how many late returns the round had noted before the read
/// began: those are in the inputs; any noted since may not be, and ask for a re-assessment.
/// </summary>
public sealed record RoundInputs(
    IReadOnlyList<PartnerInput> Partners, IReadOnlyDictionary<string, IReadOnlyList<OnCallContact>> Opel4Ladders, int LateReturnsNoted = 0);

/// <summary>The round's times, in UTC instants computed from London wall-clock times (DST-safe).</summary>
public sealed record RoundSchedule(DateTimeOffset ReminderAt, DateTimeOffset DeadlineAt, DateTimeOffset ClosesAt)
{
    public static RoundSchedule For(DateOnly date, TimeOnly reminder, TimeOnly deadline) =>
        new(London.At(date, reminder), London.At(date, deadline), London.StartOf(date.AddDays(1)));
}

public abstract record RoundCommand
{
    private RoundCommand()
    {
    }

    /// <summary>Open the day's round (the daily tick at or after 08:00 London): ask every expected partner.</summary>
    public sealed record Open(
        DateOnly Date, IReadOnlyList<string> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At,
        EscalationPolicy? Escalations = null)
        : RoundCommand;

    /// <summary>
    /// A return (or revision) from near the deadline onwards, announced by its stream: after the
    /// assessment it asks for a re-assessment; before, it is noted, and an assessment whose inputs were
    /// read before it was noted asks for a re-assessment.
    /// </summary>
    public sealed record ReturnArrived(string OdsCode, int Revision, DateTimeOffset At) : RoundCommand;

    /// <summary>A timer at 10:30: remind the partners without a return (<paramref name="Missing"/> is read when it falls due).</summary>
    public sealed record Remind(DateTimeOffset At, IReadOnlyList<string>? Missing = null) : RoundCommand, ITimerCommand
    {
        public ITimerCommand RunningAt(DateTimeOffset at) => this with { At = at };
    }

    /// <summary>A timer at 11:00: assess the round (<paramref name="Inputs"/> are read when it falls due).</summary>
    public sealed record Assess(DateTimeOffset At, RoundInputs? Inputs = null) : RoundCommand, ITimerCommand
    {
        public ITimerCommand RunningAt(DateTimeOffset at) => this with { At = at };
    }

    /// <summary>A timer shortly after late returns: assess again (<paramref name="Inputs"/> are read when it falls due).</summary>
    public sealed record Reassess(DateTimeOffset At, RoundInputs? Inputs = null) : RoundCommand, ITimerCommand
    {
        public ITimerCommand RunningAt(DateTimeOffset at) => this with { At = at };
    }
}

public abstract record RoundEvent
{
    private RoundEvent()
    {
    }

    /// <summary>The day's round opened: these partners are expected, with these times.</summary>
    public sealed record Opened(
        DateOnly Date, IReadOnlyList<string> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At,
        EscalationPolicy? Escalations = null)
        : RoundEvent;

    /// <summary>A return arrived near or after the deadline; <paramref name="Reassess"/> when it asks for a re-assessment.</summary>
    public sealed record LateReturn(string OdsCode, int Revision, bool Reassess, DateTimeOffset At) : RoundEvent;

    /// <summary>Partners without a return were reminded.</summary>
    public sealed record Reminded(IReadOnlyList<string> Missing, DateTimeOffset At) : RoundEvent;

    /// <summary>
    /// The round was assessed (at the deadline, or again after late returns or revisions): each
    /// partner's level (missing ones carried forward and flagged), the pillars and the system level.
    /// </summary>
    /// <remarks><paramref name="ReassessDue"/> when late returns were noted while its inputs were read: a re-assessment follows shortly.</remarks>
    public sealed record Assessed(
        IReadOnlyList<PartnerAssessment> Partners, int? SystemLevel, decimal? SystemScore, IReadOnlyList<PillarLevel> Pillars, bool Reassessment,
        DateTimeOffset At, IReadOnlyDictionary<string, IReadOnlyList<OnCallContact>>? Opel4Ladders = null, bool ReassessDue = false) : RoundEvent
    {
        public IReadOnlyList<string> Missing() => Partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList();
    }
}

/// <summary>
/// The day's round: who is expected, when, and the latest assessment. Returns stay on their own
/// streams; the round reads them when a timer falls due.
/// </summary>
public sealed record RoundState(
    DateOnly Date,
    RoundPhase Phase,
    IReadOnlyList<string> Expected,
    IReadOnlyDictionary<Sector, decimal> PillarWeights,
    RoundSchedule? Schedule,
    bool Reminded,
    RoundEvent.Assessed? Assessment,
    EscalationPolicy? Escalations = null,
    bool ReassessPending = false,
    int LateReturnsNoted = 0)
{
    public static RoundState Initial { get; } = new(default, RoundPhase.NotOpen, [], new Dictionary<Sector, decimal>(), null, false, null);
}

/// <summary>
/// The daily OPEL round, one stream per London date ("round-2026-11-22"): opens at 08:00, reminds
/// at 10:30, assesses at 11:00, and re-assesses after late returns and revisions until midnight.
/// Partners submit to their own return streams, so they never contend on the round; the timers'
/// inputs (who is missing, every partner's level) are read from those streams when they fall due.
/// </summary>
public static class RoundWorkflow
{
    public const string Name = "round";

    /// <summary>Returns from this long before the deadline are announced to the round (clocks differ a little between instances).</summary>
    public static readonly TimeSpan LateMargin = TimeSpan.FromMinutes(2);

    /// <summary>How long a re-assessment waits after the late return that asked for it, so a burst is assessed once.</summary>
    public static readonly TimeSpan ReassessDelay = TimeSpan.FromSeconds(10);

    public static string Key(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static readonly WorkflowDefinition<RoundState, RoundCommand, RoundEvent> Definition = new(
        Name,
        RoundState.Initial,
        Decide,
        Evolve,
        React,
        new TypeNames<RoundCommand>(
            ("OpenRound", typeof(RoundCommand.Open)),
            ("ReturnArrived", typeof(RoundCommand.ReturnArrived)),
            ("RemindMissing", typeof(RoundCommand.Remind)),
            ("AssessRound", typeof(RoundCommand.Assess)),
            ("ReassessRound", typeof(RoundCommand.Reassess))),
        new TypeNames<RoundEvent>(
            ("RoundOpened", typeof(RoundEvent.Opened)),
            ("RoundLateReturn", typeof(RoundEvent.LateReturn)),
            ("RoundReminded", typeof(RoundEvent.Reminded)),
            ("RoundAssessed", typeof(RoundEvent.Assessed))),
        new TypeNames<RoundState>(("DailyRound", typeof(RoundState))));

    public static IEnumerable<RoundEvent> Decide(RoundCommand command, RoundState state) => (command, state.Phase) switch
    {
        (RoundCommand.Open c, RoundPhase.NotOpen) => [new RoundEvent.Opened(c.Date, c.Expected, c.PillarWeights, c.Schedule, c.At, c.Escalations)],
        (RoundCommand.Open, _) => [],

        (RoundCommand.ReturnArrived c, RoundPhase.Collecting) when c.At < state.Schedule!.ClosesAt => [new RoundEvent.LateReturn(c.OdsCode, c.Revision, false, c.At)],
        (RoundCommand.ReturnArrived c, RoundPhase.Assessed) when c.At < state.Schedule!.ClosesAt =>
            [new RoundEvent.LateReturn(c.OdsCode, c.Revision, !state.ReassessPending, c.At)],
        (RoundCommand.ReturnArrived, _) => [],

        (RoundCommand.Remind { Missing: null }, _) => throw NeedsInputs(command),
        (RoundCommand.Remind c, RoundPhase.Collecting) when !state.Reminded && c.Missing.Count > 0 && c.At < state.Schedule!.DeadlineAt =>
            [new RoundEvent.Reminded(c.Missing, c.At)],
        (RoundCommand.Remind, _) => [],

        (RoundCommand.Assess { Inputs: null }, RoundPhase.Collecting) => throw NeedsInputs(command),
        (RoundCommand.Assess c, RoundPhase.Collecting) => [Assessment(c.Inputs!, state, reassessment: false, c.At)],
        (RoundCommand.Assess, _) => [],

        (RoundCommand.Reassess { Inputs: null }, RoundPhase.Assessed) when state.ReassessPending => throw NeedsInputs(command),
        (RoundCommand.Reassess c, RoundPhase.Assessed) when state.ReassessPending => [Assessment(c.Inputs!, state, reassessment: true, c.At)],
        (RoundCommand.Reassess, _) => [],

        _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to a round that is {state.Phase}."),
    };

    /// <summary>Whether a timer command must have its inputs read before it is decided.</summary>
    public static bool NeedsInputs(RoundCommand command, RoundState state) => (command, state.Phase) switch
    {
        (RoundCommand.Remind { Missing: null }, RoundPhase.Collecting) => !state.Reminded,
        (RoundCommand.Assess { Inputs: null }, RoundPhase.Collecting) => true,
        (RoundCommand.Reassess { Inputs: null }, RoundPhase.Assessed) => state.ReassessPending,
        _ => false,
    };

    public static RoundState Evolve(RoundState state, RoundEvent @event) => @event switch
    {
        RoundEvent.Opened e => state with
        {
            Date = e.Date, Phase = RoundPhase.Collecting, Expected = e.Expected, PillarWeights = e.PillarWeights, Schedule = e.Schedule, Escalations = e.Escalations,
        },
        RoundEvent.LateReturn e => state with { ReassessPending = state.ReassessPending || e.Reassess, LateReturnsNoted = state.LateReturnsNoted + 1 },
        RoundEvent.Reminded => state with { Reminded = true },
        RoundEvent.Assessed e => state with { Phase = RoundPhase.Assessed, Assessment = e, ReassessPending = e.ReassessDue },
        _ => state,
    };

    public static IEnumerable<Reaction> React(string streamId, RoundState state, RoundEvent @event)
    {
        var date = Key(state.Date);
        switch (@event)
        {
            case RoundEvent.Opened e:
                if (ToPartners("OpelReturnRequested", e.Expected, $"Daily OPEL return for {date} is open", state,
                        ("deadline", e.Schedule.DeadlineAt.ToString("O", CultureInfo.InvariantCulture))) is { } requested)
                {
                    yield return requested;
                }

                yield return new Reaction.Send(Name, date, new RoundCommand.Remind(e.Schedule.ReminderAt), e.Schedule.ReminderAt);
                yield return new Reaction.Send(Name, date, new RoundCommand.Assess(e.Schedule.DeadlineAt), e.Schedule.DeadlineAt);
                break;
            case RoundEvent.LateReturn { Reassess: true } e:
                yield return Reassess(date, e.At);
                break;
            case RoundEvent.Reminded e:
                var deadline = London.TimeOfDay(state.Schedule!.DeadlineAt).ToString("HH:mm", CultureInfo.InvariantCulture);
                if (ToPartners("OpelReturnReminder", e.Missing, $"Reminder: your OPEL return for {date} is due by {deadline}", state) is { } reminder)
                {
                    yield return reminder;
                }

                break;
            case RoundEvent.Assessed e:
                if (e.ReassessDue)
                {
                    yield return Reassess(date, e.At);
                }

                var missing = e.Missing();
                yield return new Reaction.Notify(Note(
                    "OpelRoundAssessed", Recipient.Role("Coordinator"),
                    $"{(e.Reassessment ? "Re-assessed" : "Assessed")} {date}: system OPEL {e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}, {missing.Count} missing",
                    state, ("systemLevel", e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? ""), ("missing", missing.Count.ToString(CultureInfo.InvariantCulture))));
                if (!e.Reassessment)
                {
                    if (ToPartners("OpelReturnMissing", missing, $"No OPEL return for {date} by the deadline: your last level is carried forward", state) is { } carried)
                    {
                        yield return carried with { Notification = carried.Notification with { Severity = Severity.Warning } };
                    }
                }

                foreach (var reaction in Escalations(state, e))
                {
                    yield return reaction;
                }

                break;
        }
    }

    /// <summary>
    /// Effective levels (missing partners carried forward and flagged), pillars and the system level;
    /// due a re-assessment when the round noted late returns after the inputs were read.
    /// </summary>
    public static RoundEvent.Assessed Assessment(RoundInputs inputs, RoundState state, bool reassessment, DateTimeOffset at)
    {
        var partners = inputs.Partners.OrderBy(p => p.OdsCode, StringComparer.Ordinal).ToList();
        var system = Scoring.System(
            partners.Where(p => p.Level is not null).Select(p => new PartnerLevel(p.OdsCode, p.Sector, p.SizeWeight, p.Level!.Value)), state.PillarWeights);
        return new RoundEvent.Assessed(
            partners.Select(p => new PartnerAssessment(p.OdsCode, p.Sector, p.Level, p.Missing)).ToList(), system.Level, system.Score, system.Pillars,
            reassessment, at, inputs.Opel4Ladders.Count == 0 ? null : inputs.Opel4Ladders, ReassessDue: state.LateReturnsNoted > inputs.LateReturnsNoted);
    }

    private static Reaction.Send Reassess(string date, DateTimeOffset after) =>
        new(Name, date, new RoundCommand.Reassess(after + ReassessDelay), after + ReassessDelay);

    /// <summary>Rule 2: an escalation for a partner at OPEL 4, to its own on-call ladder (one per partner and day).</summary>
    public static Reaction.Send RaisePartnerAtOpel4(DateOnly date, string odsCode, IReadOnlyList<OnCallContact> ladder, TimeSpan acknowledgeWithin, DateTimeOffset at) =>
        new(EscalationWorkflow.Name, EscalationWorkflow.Key(date, EscalationRule.PartnerAtOpel4, odsCode), new EscalationCommand.Raise(
            EscalationRule.PartnerAtOpel4, date, odsCode, $"{odsCode} is at OPEL 4 ({Key(date)})", new Dictionary<string, string> { ["odsCode"] = odsCode },
            ladder, acknowledgeWithin, at));

    private static CommandRejectedException NeedsInputs(RoundCommand command) =>
        new($"{command.GetType().Name} must have its inputs read from the return streams before it is decided.");

    /// <summary>Rules 1, 3 and 4 at every assessment; rule 1 resolves when the system level falls below 3 again.</summary>
    private static IEnumerable<Reaction> Escalations(RoundState state, RoundEvent.Assessed e)
    {
        if (state.Escalations is not { } policy || e.SystemLevel is not { } level)
        {
            yield break;
        }

        var date = Key(state.Date);
        var previous = policy.PreviousSystemLevels;
        if (policy.Rules.Contains(EscalationRule.PartnerAtOpel4))
        {
            // Also those that reported before the round opened, or whose OPEL 4 is carried forward.
            foreach (var partner in e.Partners.Where(p => p.EffectiveLevel == 4))
            {
                var ladder = e.Opel4Ladders?.GetValueOrDefault(partner.OdsCode) is { Count: > 0 } own ? own : policy.SystemLadder;
                yield return RaisePartnerAtOpel4(state.Date, partner.OdsCode, ladder, policy.AcknowledgeWithin, e.At);
            }
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevel))
        {
            yield return level >= 3
                ? Raise(state, policy, EscalationRule.SystemLevel, "system", $"The system is at OPEL {level} ({date})", policy.SystemLadder, e.At,
                    ("systemLevel", $"{level}"), ("partners", Breakdown(e.Partners)))
                : new Reaction.Send(EscalationWorkflow.Name, EscalationWorkflow.Key(state.Date, EscalationRule.SystemLevel, "system"),
                    new EscalationCommand.Resolve($"The system level fell to OPEL {level}.", e.At));
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevelRose) && previous.Count > 0 && previous[0] is { } yesterday && level >= yesterday + 1)
        {
            yield return Raise(state, policy, EscalationRule.SystemLevelRose, "system", $"The system level rose from OPEL {yesterday} to {level} ({date})",
                policy.SystemLadder, e.At, ("systemLevel", $"{level}"), ("previousLevel", $"{yesterday}"), ("partners", Breakdown(e.Partners)));
        }

        if (policy.Rules.Contains(EscalationRule.SustainedPressure) && level >= 3 && previous.Count >= 2 && previous.Take(2).All(p => p >= 3))
        {
            yield return Raise(state, policy, EscalationRule.SustainedPressure, "system", $"The system has been at OPEL 3 or above for 3 days ({date})",
                policy.SystemLadder, e.At, ("systemLevel", $"{level}"), ("partners", Breakdown(e.Partners)));
        }
    }

    /// <summary>Most partners listed by level in an escalation's breakdown; the rest are counted.</summary>
    public const int BreakdownListed = 10;

    /// <summary>
    /// The partner breakdown an executive reads in an escalation: who is at OPEL 4 and 3 and who is missing, by
    /// ODS code (at most <see cref="BreakdownListed"/> each), and how many are at OPEL 2 and 1, e.g.
    /// <c>OPEL 4: RZ1; OPEL 3: RZ2, RZ3; OPEL 2: 12; OPEL 1: 30; missing: LZ4</c>. Short whatever the number of partners.
    /// </summary>
    public static string Breakdown(IReadOnlyList<PartnerAssessment> partners)
    {
        static string Codes(IEnumerable<PartnerAssessment> group)
        {
            var codes = group.Select(p => p.OdsCode).Order(StringComparer.Ordinal).ToList();
            return codes.Count <= BreakdownListed
                ? string.Join(", ", codes)
                : $"{string.Join(", ", codes.Take(BreakdownListed))} and {codes.Count - BreakdownListed} more";
        }

        var parts = new List<string>();
        foreach (var level in new[] { 4, 3 })
        {
            if (partners.Where(p => p.EffectiveLevel == level).ToList() is { Count: > 0 } at)
            {
                parts.Add($"OPEL {level}: {Codes(at)}");
            }
        }

        foreach (var level in new[] { 2, 1 })
        {
            if (partners.Count(p => p.EffectiveLevel == level) is > 0 and var count)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"OPEL {level}: {count}"));
            }
        }

        if (partners.Where(p => p.Missing).ToList() is { Count: > 0 } none)
        {
            parts.Add($"missing: {Codes(none)}");
        }

        return string.Join("; ", parts);
    }

    private static Reaction.Send Raise(
        RoundState state, EscalationPolicy policy, EscalationRule rule, string subject, string summary, IReadOnlyList<OnCallContact> ladder, DateTimeOffset at,
        params (string Key, string Value)[] details) =>
        new(EscalationWorkflow.Name, EscalationWorkflow.Key(state.Date, rule, subject), new EscalationCommand.Raise(
            rule, state.Date, subject, summary, details.ToDictionary(d => d.Key, d => d.Value), ladder, policy.AcknowledgeWithin, at));

    /// <summary>One notice (one outbox row) for many partners, however many; null when there are none.</summary>
    private static Reaction.Notify? ToPartners(string type, IEnumerable<string> odsCodes, string title, RoundState state, params (string Key, string Value)[] data)
    {
        var recipients = odsCodes.Select(Recipient.Org).ToList();
        return recipients.Count == 0 ? null : new Reaction.Notify(Note(type, recipients[0], title, state, data) with { AlsoTo = recipients.Skip(1).ToList() });
    }

    private static Notification Note(string type, Recipient to, string title, RoundState state, params (string Key, string Value)[] data)
    {
        var values = new Dictionary<string, string> { ["date"] = Key(state.Date) };
        foreach (var (key, value) in data)
        {
            values[key] = value;
        }

        return new Notification(type, to, title, $"{Name}-{Key(state.Date)}", values, $"/api/returns/{Key(state.Date)}");
    }
}
