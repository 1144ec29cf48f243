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
/// What an assessment is made of, read from the partner registry and the day's return rows when the round
/// assesses: every partner, and the on-call ladders of those at OPEL 4.
/// </summary>
public sealed record RoundInputs(IReadOnlyList<PartnerInput> Partners, IReadOnlyDictionary<string, IReadOnlyList<OnCallContact>> Opel4Ladders);

/// <summary>The round's times, in UTC instants computed from London wall-clock times (DST-safe).</summary>
public sealed record RoundSchedule(DateTimeOffset ReminderAt, DateTimeOffset DeadlineAt, DateTimeOffset ClosesAt)
{
    public static RoundSchedule For(DateOnly date, TimeOnly reminder, TimeOnly deadline) =>
        new(London.At(date, reminder), London.At(date, deadline), London.StartOf(date.AddDays(1)));
}

/// <summary>
/// A round's assessment (at the deadline, or again after late returns and revisions): each partner's level
/// (missing ones carried forward and flagged), the pillars and the system level.
/// </summary>
public sealed record RoundAssessment(
    IReadOnlyList<PartnerAssessment> Partners, int? SystemLevel, decimal? SystemScore, IReadOnlyList<PillarLevel> Pillars, bool Reassessment,
    DateTimeOffset At, IReadOnlyDictionary<string, IReadOnlyList<OnCallContact>>? Opel4Ladders = null)
{
    public IReadOnlyList<string> Missing() => Partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList();
}

/// <summary>The notices a round sends its partners, each to many partners at once.</summary>
public enum RoundNotice
{
    /// <summary>At opening, to every partner expected daily.</summary>
    Requested,

    /// <summary>At the reminder time, to those without a return.</summary>
    Reminder,

    /// <summary>After the first assessment, to those whose level was carried forward.</summary>
    Missing,
}

/// <summary>
/// The daily OPEL round's rules, run by the round's orchestration (one instance per London date): opens at
/// 08:00, reminds at 10:30, assesses at 11:00, and re-assesses after late returns and revisions until midnight.
/// Partners submit to their own return rows, so they never contend on the round; the round reads them when it assesses.
/// </summary>
public static class RoundWorkflow
{
    public const string Name = "round";

    /// <summary>Returns from this long before the deadline are announced to the round (clocks differ a little between instances).</summary>
    public static readonly TimeSpan LateMargin = TimeSpan.FromMinutes(2);

    /// <summary>How long a re-assessment waits after the late return that asked for it, so a burst is assessed once.</summary>
    public static readonly TimeSpan ReassessDelay = TimeSpan.FromSeconds(10);

    public static string Key(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Whether a return made at <paramref name="at"/> is announced to the round: from near the deadline until midnight.</summary>
    public static bool Announces(RoundSchedule schedule, DateTimeOffset at) => at >= schedule.DeadlineAt - LateMargin && at < schedule.ClosesAt;

    /// <summary>A notice to many partners (one per batch), or null when there is nobody to tell.</summary>
    public static Notification? Notice(RoundNotice kind, DateOnly date, RoundSchedule schedule, IReadOnlyList<string> odsCodes)
    {
        var day = Key(date);
        var deadline = London.TimeOfDay(schedule.DeadlineAt).ToString("HH:mm", CultureInfo.InvariantCulture);
        var notice = kind switch
        {
            RoundNotice.Requested => ToPartners(
                "OpelReturnRequested", odsCodes, $"Daily OPEL return for {day} is open", date, ("deadline", schedule.DeadlineAt.ToString("O", CultureInfo.InvariantCulture))),
            RoundNotice.Reminder => ToPartners("OpelReturnReminder", odsCodes, $"Reminder: your OPEL return for {day} is due by {deadline}", date),
            RoundNotice.Missing => ToPartners("OpelReturnMissing", odsCodes, $"No OPEL return for {day} by the deadline: your last level is carried forward", date),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return kind == RoundNotice.Missing && notice is not null ? notice with { Severity = Severity.Warning } : notice;
    }

    /// <summary>The coordinators' notice of an assessment.</summary>
    public static Notification Assessed(DateOnly date, RoundAssessment e)
    {
        var missing = e.Missing();
        return Note(
            "OpelRoundAssessed", Recipient.Role("Coordinator"),
            $"{(e.Reassessment ? "Re-assessed" : "Assessed")} {Key(date)}: system OPEL {e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}, {missing.Count} missing",
            date, ("systemLevel", e.SystemLevel?.ToString(CultureInfo.InvariantCulture) ?? ""), ("missing", missing.Count.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Effective levels (missing partners carried forward and flagged), pillars and the system level.</summary>
    public static RoundAssessment Assess(RoundInputs inputs, IReadOnlyDictionary<Sector, decimal> pillarWeights, bool reassessment, DateTimeOffset at)
    {
        var partners = inputs.Partners.OrderBy(p => p.OdsCode, StringComparer.Ordinal).ToList();
        var system = Scoring.System(
            partners.Where(p => p.Level is not null).Select(p => new PartnerLevel(p.OdsCode, p.Sector, p.SizeWeight, p.Level!.Value)), pillarWeights);
        return new RoundAssessment(
            partners.Select(p => new PartnerAssessment(p.OdsCode, p.Sector, p.Level, p.Missing)).ToList(), system.Level, system.Score, system.Pillars,
            reassessment, at, inputs.Opel4Ladders.Count == 0 ? null : inputs.Opel4Ladders);
    }

    /// <summary>Rule 2: an escalation for a partner at OPEL 4, to its own on-call ladder (one per partner and day).</summary>
    public static Reaction.Send RaisePartnerAtOpel4(DateOnly date, string odsCode, IReadOnlyList<OnCallContact> ladder, TimeSpan acknowledgeWithin, DateTimeOffset at) =>
        new(EscalationWorkflow.Name, EscalationWorkflow.Key(date, EscalationRule.PartnerAtOpel4, odsCode), new EscalationCommand.Raise(
            EscalationRule.PartnerAtOpel4, date, odsCode, $"{odsCode} is at OPEL 4 ({Key(date)})", new Dictionary<string, string> { ["odsCode"] = odsCode },
            ladder, acknowledgeWithin, at));

    /// <summary>
    /// The escalations an assessment raises or resolves (rules 1-4), each as a command for its escalation; rule 1
    /// resolves when the system level falls below 3 again.
    /// </summary>
    public static IEnumerable<Reaction.Send> Escalations(DateOnly date, EscalationPolicy policy, RoundAssessment e)
    {
        if (e.SystemLevel is not { } level)
        {
            yield break;
        }

        var day = Key(date);
        var previous = policy.PreviousSystemLevels;
        if (policy.Rules.Contains(EscalationRule.PartnerAtOpel4))
        {
            // Also those that reported before the round opened, or whose OPEL 4 is carried forward.
            foreach (var partner in e.Partners.Where(p => p.EffectiveLevel == 4))
            {
                var ladder = e.Opel4Ladders?.GetValueOrDefault(partner.OdsCode) is { Count: > 0 } own ? own : policy.SystemLadder;
                yield return RaisePartnerAtOpel4(date, partner.OdsCode, ladder, policy.AcknowledgeWithin, e.At);
            }
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevel))
        {
            yield return level >= 3
                ? Raise(date, policy, EscalationRule.SystemLevel, "system", $"The system is at OPEL {level} ({day})", e.At,
                    ("systemLevel", $"{level}"), ("partners", Breakdown(e.Partners)))
                : new Reaction.Send(EscalationWorkflow.Name, EscalationWorkflow.Key(date, EscalationRule.SystemLevel, "system"),
                    new EscalationCommand.Resolve($"The system level fell to OPEL {level}.", e.At));
        }

        if (policy.Rules.Contains(EscalationRule.SystemLevelRose) && previous.Count > 0 && previous[0] is { } yesterday && level >= yesterday + 1)
        {
            yield return Raise(date, policy, EscalationRule.SystemLevelRose, "system", $"The system level rose from OPEL {yesterday} to {level} ({day})",
                e.At, ("systemLevel", $"{level}"), ("previousLevel", $"{yesterday}"), ("partners", Breakdown(e.Partners)));
        }

        if (policy.Rules.Contains(EscalationRule.SustainedPressure) && level >= 3 && previous.Count >= 2 && previous.Take(2).All(p => p >= 3))
        {
            yield return Raise(date, policy, EscalationRule.SustainedPressure, "system", $"The system has been at OPEL 3 or above for 3 days ({day})",
                e.At, ("systemLevel", $"{level}"), ("partners", Breakdown(e.Partners)));
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
        DateOnly date, EscalationPolicy policy, EscalationRule rule, string subject, string summary, DateTimeOffset at, params (string Key, string Value)[] details) =>
        new(EscalationWorkflow.Name, EscalationWorkflow.Key(date, rule, subject), new EscalationCommand.Raise(
            rule, date, subject, summary, details.ToDictionary(d => d.Key, d => d.Value), policy.SystemLadder, policy.AcknowledgeWithin, at));

    /// <summary>One notice for many partners, however many; null when there are none.</summary>
    private static Notification? ToPartners(string type, IEnumerable<string> odsCodes, string title, DateOnly date, params (string Key, string Value)[] data)
    {
        var recipients = odsCodes.Select(Recipient.Org).ToList();
        return recipients.Count == 0 ? null : Note(type, recipients[0], title, date, data) with { AlsoTo = recipients.Skip(1).ToList() };
    }

    private static Notification Note(string type, Recipient to, string title, DateOnly date, params (string Key, string Value)[] data)
    {
        var values = new Dictionary<string, string> { ["date"] = Key(date) };
        foreach (var (key, value) in data)
        {
            values[key] = value;
        }

        return new Notification(type, to, title, $"{Name}-{Key(date)}", values, $"/api/returns/{Key(date)}");
    }
}
