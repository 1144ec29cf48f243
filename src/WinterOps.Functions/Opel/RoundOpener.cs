using Microsoft.Azure.Functions.Worker;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>Round times in Europe/London wall-clock time (section <c>Opel</c>), with the defaults of DOMAIN.md.</summary>
public sealed class RoundOptions
{
    public TimeOnly OpensAt { get; set; } = new(8, 0);

    public TimeOnly ReminderAt { get; set; } = new(10, 30);

    public TimeOnly DeadlineAt { get; set; } = new(11, 0);
}

/// <summary>Escalation settings (section <c>Escalations</c>), with the defaults of DOMAIN.md.</summary>
public sealed class EscalationOptions
{
    /// <summary>The partner (ODS code) whose contacts, in on-call order, are the ICS executive ladder, e.g. the ICB.</summary>
    public string? SystemOrg { get; set; }

    public TimeSpan AcknowledgeWithin { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Every rule of DOMAIN.md, in force unless <c>Escalations__Rules__N</c> names others.</summary>
    public static readonly IReadOnlyList<EscalationRule> DefaultRules =
        [EscalationRule.SystemLevel, EscalationRule.PartnerAtOpel4, EscalationRule.SystemLevelRose, EscalationRule.SustainedPressure, EscalationRule.PlacementUnplacedPastRequiredBy];

    /// <summary>
    /// The configured rules (<c>Escalations__Rules__0</c>, <c>__1</c>, ...); null when none are. No initial items: the configuration
    /// binder adds configured items to a list's initial ones, so a default listed here could never be switched off.
    /// </summary>
    public List<EscalationRule>? Rules { get; set; }

    /// <summary>The rules in force: the configured ones, or <see cref="DefaultRules"/>.</summary>
    public IReadOnlyList<EscalationRule> InForce => Rules is { Count: > 0 } configured ? configured.Distinct().ToList() : DefaultRules;

    /// <summary>What a placement records for rule 5: the acknowledgement window, or null when the rule is off.</summary>
    public TimeSpan? UnplacedPlacementWindow => InForce.Contains(EscalationRule.PlacementUnplacedPastRequiredBy) ? AcknowledgeWithin : null;

    /// <summary>Who is alerted when there is no ladder: every Executive, through the inbox (and the system organisation).</summary>
    public OnCallContact Fallback => new("On-call executive", null, SystemOrg ?? "");
}

/// <summary>
/// The daily tick (a timer function, every 5 minutes in UTC): once London time is past the opening
/// time, opens today's round if it is not open, asking every partner expected daily. Idempotent, so a restart in the middle of the day changes nothing,
/// and correct on the days the clocks change because it compares London wall-clock time.
/// </summary>
public sealed partial class RoundOpener(
    CommandHandler handler, FrameworkSet frameworks, RoundOptions options, EscalationOptions escalations, TimeProvider time,
    ILogger<RoundOpener> logger)
{
    /// <summary>The timer function: every 5 minutes in UTC, since the opening time is London's (DST-safe).</summary>
    [Function("DailyTick")]
    public Task DailyTick([TimerTrigger("0 */5 * * * *")] TimerInfo timer, CancellationToken cancellationToken) => TickAsync(cancellationToken);

    /// <summary>Opens today's round when due; returns today's date once the round is due (opened now or before), else null.</summary>
    public Task<DateOnly?> TickAsync(CancellationToken cancellationToken) => OpenTodayAsync(force: false, cancellationToken);

    /// <summary>Opens today's round if it is not open; before the opening time only when <paramref name="force"/> (the demo).</summary>
    public async Task<DateOnly?> OpenTodayAsync(bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!force && London.TimeOfDay(now) < options.OpensAt)
        {
            return null;
        }

        var today = London.Today(now);
        var round = RoundWorkflow.Definition;
        var (state, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(today)), cancellationToken);
        if (state.Phase != RoundPhase.NotOpen)
        {
            return today; // already open: nothing to do
        }

        var (yesterday, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(today.AddDays(-1))), cancellationToken);
        var (dayBefore, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(today.AddDays(-2))), cancellationToken);
        var expected = new List<string>();
        IReadOnlyList<OnCallContact> systemLadder = [];
        await foreach (var (partner, _) in handler.LoadAllAsync(PartnerWorkflow.Definition, cancellationToken))
        {
            if (partner is not PartnerState.Registered p)
            {
                continue;
            }

            if (p.OdsCode == escalations.SystemOrg)
            {
                systemLadder = RoundReader.Ladder(p);
            }

            if (p.Details.ExpectedDaily)
            {
                expected.Add(p.OdsCode);
            }
        }

        // Without a configured ladder the alerts still reach every Executive through the inbox.
        if (systemLadder.Count == 0)
        {
            systemLadder = [escalations.Fallback];
        }

        var policy = new EscalationPolicy(
            systemLadder, escalations.AcknowledgeWithin, escalations.InForce, [yesterday.Assessment?.SystemLevel, dayBefore.Assessment?.SystemLevel]);
        var result = await handler.HandleAsync(
            round, RoundWorkflow.Key(today),
            new RoundCommand.Open(today, expected, frameworks.PillarWeights, RoundSchedule.For(today, options.ReminderAt, options.DeadlineAt), now, policy),
            new CommandContext($"open-round-{RoundWorkflow.Key(today)}", Actor.System("daily-tick"), now), cancellationToken: cancellationToken);
        if (result.NewEvents.Count > 0)
        {
            LogOpened(today, expected.Count);
        }

        return today;
    }

    [LoggerMessage(LogLevel.Information, "OPEL round {Date} opened; {Expected} partners expected")]
    private partial void LogOpened(DateOnly date, int expected);
}
