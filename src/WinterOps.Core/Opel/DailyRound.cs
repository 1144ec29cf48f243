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

/// <summary>A partner expected to report today, its level carried forward from its last return, and its on-call ladder.</summary>
public sealed record ExpectedPartner(string OdsCode, Sector Sector, decimal SizeWeight, int? CarriedLevel, IReadOnlyList<OnCallContact>? Contacts = null);

/// <summary>
/// How the round escalates (rules 1-4 of DOMAIN.md): the ICS on-call ladder, the acknowledgement
/// window, the rules in force, and the system levels of the previous days (newest first) for the
/// rise and sustained-pressure rules.
/// </summary>
public sealed record EscalationPolicy(
    IReadOnlyList<OnCallContact> SystemLadder, TimeSpan AcknowledgeWithin, IReadOnlyList<EscalationRule> Rules, IReadOnlyList<int?> PreviousSystemLevels);

/// <summary>A partner's level in an assessment; <see cref="Missing"/> when carried forward for want of a return.</summary>
public sealed record PartnerAssessment(string OdsCode, Sector Sector, int? EffectiveLevel, bool Missing);

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
        DateOnly Date, IReadOnlyList<ExpectedPartner> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At,
        EscalationPolicy? Escalations = null)
        : RoundCommand;

    /// <summary>A partner's return (or revision) was recorded on its own stream.</summary>
    public sealed record RecordReturn(string OdsCode, Sector Sector, decimal SizeWeight, int EffectiveLevel, int Revision, DateTimeOffset At) : RoundCommand;

    /// <summary>A timer at 10:30: remind partners that have not reported.</summary>
    public sealed record Remind(DateTimeOffset At) : RoundCommand;

    /// <summary>A timer at 11:00: assess the round.</summary>
    public sealed record Assess(DateTimeOffset At) : RoundCommand;
}

public abstract record RoundEvent
{
    private RoundEvent()
    {
    }

    /// <summary>The day's round opened: these partners are expected, with these times.</summary>
    public sealed record Opened(
        DateOnly Date, IReadOnlyList<ExpectedPartner> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At,
        EscalationPolicy? Escalations = null)
        : RoundEvent;

    /// <summary>A partner's effective level for the day (its latest revision).</summary>
    public sealed record ReturnRecorded(string OdsCode, Sector Sector, decimal SizeWeight, int EffectiveLevel, int Revision, DateTimeOffset At) : RoundEvent;

    /// <summary>Partners without a return were reminded.</summary>
    public sealed record Reminded(IReadOnlyList<string> Missing, DateTimeOffset At) : RoundEvent;

    /// <summary>
    /// The round was assessed (at the deadline, or again after a late return or revision): each
    /// partner's level (missing ones carried forward and flagged), the pillars and the system level.
    /// </summary>
    public sealed record Assessed(
        IReadOnlyList<PartnerAssessment> Partners, IReadOnlyList<string> Missing, int? SystemLevel, decimal? SystemScore,
        IReadOnlyList<PillarLevel> Pillars, bool Reassessment, DateTimeOffset At) : RoundEvent;
}

/// <summary>The day's round: who is expected, what has arrived, and the latest assessment.</summary>
public sealed record RoundState(
    DateOnly Date,
    RoundPhase Phase,
    IReadOnlyList<ExpectedPartner> Expected,
    IReadOnlyDictionary<string, RoundEvent.ReturnRecorded> Returns,
    IReadOnlyDictionary<Sector, decimal> PillarWeights,
    RoundSchedule? Schedule,
    bool Reminded,
    RoundEvent.Assessed? Assessment,
    EscalationPolicy? Escalations = null)
{
    public static RoundState Initial { get; } = new(default, RoundPhase.NotOpen, [], new Dictionary<string, RoundEvent.ReturnRecorded>(), new Dictionary<Sector, decimal>(), null, false, null);

    public IReadOnlyList<string> Missing => Expected.Where(e => !Returns.ContainsKey(e.OdsCode)).Select(e => e.OdsCode).ToList();
}

/// <summary>
/// The daily OPEL round, one stream per London date ("round-2026-11-22"): opens at 08:00, reminds
/// at 10:30, assesses at 11:00, and re-assesses on every late return or revision until midnight.
/// Returns are recorded here from their own streams through the command queue, so partners
/// submitting at once never contend with each other.
/// </summary>
public static class RoundWorkflow
{
    public const string Name = "round";

    public static string Key(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static readonly WorkflowDefinition<RoundState, RoundCommand, RoundEvent> Definition = new(
        Name,
        RoundState.Initial,
        Decide,
        Evolve,
        React,
        new TypeNames<RoundCommand>(
            ("OpenRound", typeof(RoundCommand.Open)),
            ("RecordReturn", typeof(RoundCommand.RecordReturn)),
            ("RemindMissing", typeof(RoundCommand.Remind)),
            ("AssessRound", typeof(RoundCommand.Assess))),
        new TypeNames<RoundEvent>(
            ("RoundOpened", typeof(RoundEvent.Opened)),
            ("RoundReturnRecorded", typeof(RoundEvent.ReturnRecorded)),
            ("RoundReminded", typeof(RoundEvent.Reminded)),
            ("RoundAssessed", typeof(RoundEvent.Assessed))),
        new TypeNames<RoundState>(("Round", typeof(RoundState))));

    public static IEnumerable<RoundEvent> Decide(RoundCommand command, RoundState state) => (command, state.Phase) switch
    {
        (RoundCommand.Open c, RoundPhase.NotOpen) => [new RoundEvent.Opened(c.Date, c.Expected, c.PillarWeights, c.Schedule, c.At, c.Escalations)],
        (RoundCommand.Open, _) => [],

        (RoundCommand.RecordReturn c, _) when state.Returns.TryGetValue(c.OdsCode, out var known) && known.Revision >= c.Revision => [],
        (RoundCommand.RecordReturn c, RoundPhase.Assessed) when c.At < state.Schedule!.ClosesAt =>
            [Recorded(c), Assessment(Evolve(state, Recorded(c)), reassessment: true, c.At)],
        (RoundCommand.RecordReturn c, _) => [Recorded(c)],

        (RoundCommand.Remind c, RoundPhase.Collecting) when !state.Reminded && state.Missing.Count > 0 => [new RoundEvent.Reminded(state.Missing, c.At)],
        (RoundCommand.Remind, _) => [],

        (RoundCommand.Assess c, RoundPhase.Collecting) => [Assessment(state, reassessment: false, c.At)],
        (RoundCommand.Assess, _) => [],

        _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to a round that is {state.Phase}."),
    };

    public static RoundState Evolve(RoundState state, RoundEvent @event) => @event switch
    {
        RoundEvent.Opened e => state with
        {
            Date = e.Date, Phase = RoundPhase.Collecting, Expected = e.Expected, PillarWeights = e.PillarWeights, Schedule = e.Schedule, Escalations = e.Escalations,
        },
        RoundEvent.ReturnRecorded e => state with { Returns = new Dictionary<string, RoundEvent.ReturnRecorded>(state.Returns) { [e.OdsCode] = e } },
        RoundEvent.Reminded => state with { Reminded = true },
        RoundEvent.Assessed e => state with { Phase = RoundPhase.Assessed, Assessment = e },
        _ => state,
    };

    public static IEnumerable<Reaction> React(string streamId, RoundState state, RoundEvent @event)
    {
        var date = Key(state.Date);
        switch (@event)
        {
            case RoundEvent.Opened e:
                if (ToPartners("OpelReturnRequested", e.Expected.Select(p => p.OdsCode), $"Daily OPEL return for {date} is open", state,
                        ("deadline", e.Schedule.DeadlineAt.ToString("O", CultureInfo.InvariantCulture))) is { } requested)
                {
                    yield return requested;
                }

                yield return new Reaction.Send(Name, date, new RoundCommand.Remind(e.Schedule.ReminderAt), e.Schedule.ReminderAt);
                yield return new Reaction.Send(Name, date, new RoundCommand.Assess(e.Schedule.DeadlineAt), e.Schedule.DeadlineAt);
                break;
            case RoundEvent.ReturnRecorded e when e.EffectiveLevel == 4 && e.At < state.Schedule?.ClosesAt && Escalating(state, EscalationRule.PartnerAtOpel4) is { } policy:
                var ladder = state.Expected.FirstOrDefault(p => p.OdsCode == e.OdsCode)?.Contacts is { Count: > 0 } own ? own : policy.SystemLadder;
                yield return Raise(state, policy, EscalationRule.PartnerAtOpel4, e.OdsCode, $"{e.OdsCode} is at OPEL 4 ({date})", ladder, e.At, ("odsCode", e.OdsCode));
                break;
            case RoundEvent.Reminded e:
                if (ToPartners("OpelReturnReminder", e.Missing, $"Reminder: your OPEL return for {date} is due by 11:00", state) is { } reminder)
                {
                    yield return reminder;
                }

                break;
            case RoundEvent.Assessed e:
                yield return new Reaction.Notify(Note(
                    "OpelRoundAssessed", Recipient.Role("Coordinator"),
                    $"{(e.Reassessment ? "Re-assessed" : "Assessed")} {date}: system OPEL {e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}, {e.Missing.Count} missing",
                    state, ("systemLevel", e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? ""), ("missing", e.Missing.Count.ToString(CultureInfo.InvariantCulture))));
                if (!e.Reassessment)
                {
                    if (ToPartners("OpelReturnMissing", e.Missing, $"No OPEL return for {date} by the deadline: your last level is carried forward", state) is { } missing)
                    {
                        yield return missing;
                    }
                }

                foreach (var reaction in Escalations(state, e))
                {
                    yield return reaction;
                }

                break;
        }
    }

    /// <summary>Effective levels (missing partners carried forward and flagged), pillars and the system level.</summary>
    public static RoundEvent.Assessed Assessment(RoundState state, bool reassessment, DateTimeOffset at)
    {
        var partners = state.Expected
            .Select(e => state.Returns.TryGetValue(e.OdsCode, out var r)
                ? new PartnerAssessment(e.OdsCode, e.Sector, r.EffectiveLevel, Missing: false)
                : new PartnerAssessment(e.OdsCode, e.Sector, e.CarriedLevel, Missing: true))
            .Concat(state.Returns.Values.Where(r => state.Expected.All(e => e.OdsCode != r.OdsCode))
                .Select(r => new PartnerAssessment(r.OdsCode, r.Sector, r.EffectiveLevel, Missing: false)))
            .OrderBy(p => p.OdsCode, StringComparer.Ordinal)
            .ToList();
        var sizes = state.Expected.ToDictionary(e => e.OdsCode, e => e.SizeWeight);
        foreach (var r in state.Returns.Values)
        {
            sizes.TryAdd(r.OdsCode, r.SizeWeight);
        }

        var system = Scoring.System(
            partners.Where(p => p.EffectiveLevel is not null).Select(p => new PartnerLevel(p.OdsCode, p.Sector, sizes[p.OdsCode], p.EffectiveLevel!.Value)),
            state.PillarWeights);
        return new RoundEvent.Assessed(partners, state.Missing, system.Level, system.Score, system.Pillars, reassessment, at);
    }

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
                var ladder = state.Expected.FirstOrDefault(p => p.OdsCode == partner.OdsCode)?.Contacts is { Count: > 0 } own ? own : policy.SystemLadder;
                yield return Raise(state, policy, EscalationRule.PartnerAtOpel4, partner.OdsCode, $"{partner.OdsCode} is at OPEL 4 ({date})", ladder, e.At,
                    ("odsCode", partner.OdsCode));
            }
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevel))
        {
            yield return level >= 3
                ? Raise(state, policy, EscalationRule.SystemLevel, "system", $"The system is at OPEL {level} ({date})", policy.SystemLadder, e.At, ("systemLevel", $"{level}"))
                : new Reaction.Send(EscalationWorkflow.Name, EscalationWorkflow.Key(state.Date, EscalationRule.SystemLevel, "system"),
                    new EscalationCommand.Resolve($"The system level fell to OPEL {level}.", e.At));
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevelRose) && previous.Count > 0 && previous[0] is { } yesterday && level >= yesterday + 1)
        {
            yield return Raise(state, policy, EscalationRule.SystemLevelRose, "system", $"The system level rose from OPEL {yesterday} to {level} ({date})",
                policy.SystemLadder, e.At, ("systemLevel", $"{level}"), ("previousLevel", $"{yesterday}"));
        }

        if (policy.Rules.Contains(EscalationRule.SustainedPressure) && level >= 3 && previous.Count >= 2 && previous.Take(2).All(p => p >= 3))
        {
            yield return Raise(state, policy, EscalationRule.SustainedPressure, "system", $"The system has been at OPEL 3 or above for 3 days ({date})",
                policy.SystemLadder, e.At, ("systemLevel", $"{level}"));
        }
    }

    private static EscalationPolicy? Escalating(RoundState state, EscalationRule rule) =>
        state.Escalations is { } policy && policy.Rules.Contains(rule) ? policy : null;

    private static Reaction.Send Raise(
        RoundState state, EscalationPolicy policy, EscalationRule rule, string subject, string summary, IReadOnlyList<OnCallContact> ladder, DateTimeOffset at,
        params (string Key, string Value)[] details) =>
        new(EscalationWorkflow.Name, EscalationWorkflow.Key(state.Date, rule, subject), new EscalationCommand.Raise(
            rule, state.Date, subject, summary, details.ToDictionary(d => d.Key, d => d.Value), ladder, policy.AcknowledgeWithin, at));

    private static RoundEvent.ReturnRecorded Recorded(RoundCommand.RecordReturn c) => new(c.OdsCode, c.Sector, c.SizeWeight, c.EffectiveLevel, c.Revision, c.At);

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
