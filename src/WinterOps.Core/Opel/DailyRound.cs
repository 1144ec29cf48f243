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

/// <summary>A partner expected to report today, and its level carried forward from its last return.</summary>
public sealed record ExpectedPartner(string OdsCode, Sector Sector, decimal SizeWeight, int? CarriedLevel);

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
        DateOnly Date, IReadOnlyList<ExpectedPartner> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At)
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
    public sealed record Opened(DateOnly Date, IReadOnlyList<ExpectedPartner> Expected, IReadOnlyDictionary<Sector, decimal> PillarWeights, RoundSchedule Schedule, DateTimeOffset At)
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
    RoundEvent.Assessed? Assessment)
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
        (RoundCommand.Open c, RoundPhase.NotOpen) => [new RoundEvent.Opened(c.Date, c.Expected, c.PillarWeights, c.Schedule, c.At)],
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
        RoundEvent.Opened e => state with { Date = e.Date, Phase = RoundPhase.Collecting, Expected = e.Expected, PillarWeights = e.PillarWeights, Schedule = e.Schedule },
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
                foreach (var partner in e.Expected)
                {
                    yield return Notify("OpelReturnRequested", Recipient.Org(partner.OdsCode), $"Daily OPEL return for {date} is open", state,
                        ("deadline", e.Schedule.DeadlineAt.ToString("O", CultureInfo.InvariantCulture)));
                }

                yield return new Reaction.Send(Name, date, new RoundCommand.Remind(e.Schedule.ReminderAt), e.Schedule.ReminderAt);
                yield return new Reaction.Send(Name, date, new RoundCommand.Assess(e.Schedule.DeadlineAt), e.Schedule.DeadlineAt);
                break;
            case RoundEvent.Reminded e:
                foreach (var ods in e.Missing)
                {
                    yield return Notify("OpelReturnReminder", Recipient.Org(ods), $"Reminder: your OPEL return for {date} is due by 11:00", state);
                }

                break;
            case RoundEvent.Assessed e:
                yield return Notify(
                    "OpelRoundAssessed", Recipient.Role("Coordinator"),
                    $"{(e.Reassessment ? "Re-assessed" : "Assessed")} {date}: system OPEL {e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}, {e.Missing.Count} missing",
                    state, ("systemLevel", e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? ""), ("missing", e.Missing.Count.ToString(CultureInfo.InvariantCulture)));
                if (!e.Reassessment)
                {
                    foreach (var ods in e.Missing)
                    {
                        yield return Notify("OpelReturnMissing", Recipient.Org(ods), $"No OPEL return for {date} by the deadline: your last level is carried forward", state);
                    }
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

    private static RoundEvent.ReturnRecorded Recorded(RoundCommand.RecordReturn c) => new(c.OdsCode, c.Sector, c.SizeWeight, c.EffectiveLevel, c.Revision, c.At);

    private static Reaction.Notify Notify(string type, Recipient to, string title, RoundState state, params (string Key, string Value)[] data)
    {
        var values = new Dictionary<string, string> { ["date"] = Key(state.Date) };
        foreach (var (key, value) in data)
        {
            values[key] = value;
        }

        return new Reaction.Notify(new Notification(type, to, title, $"{Name}-{Key(state.Date)}", values, $"/api/returns/{Key(state.Date)}"));
    }
}
