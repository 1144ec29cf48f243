using Microsoft.Azure.Functions.Worker;
using WinterOps.Core;
using WinterOps.Core.Opel;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

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
/// The daily tick (a timer function, every 5 minutes in UTC): once London time is past the opening time, starts
/// today's round orchestration if it has not started. Whether to start is decided by the round's row, not by the
/// start call, so a restart in the middle of the day, or two hosts ticking at once, start it once; and it is correct
/// on the days the clocks change because it compares London wall-clock time.
/// </summary>
public sealed partial class RoundOpener(RoundStore rounds, RoundOptions options, TimeProvider time, ILogger<RoundOpener> logger)
{
    /// <summary>The timer function: every 5 minutes in UTC, since the opening time is London's (DST-safe).</summary>
    [Function("DailyTick")]
    public Task DailyTick([TimerTrigger("0 */5 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken) =>
        TickAsync(durable, cancellationToken);

    /// <summary>Starts today's round when due; returns today's date once the round is due (started now or before), else null.</summary>
    public Task<DateOnly?> TickAsync(DurableTaskClient durable, CancellationToken cancellationToken) => OpenTodayAsync(durable, force: false, cancellationToken);

    /// <summary>Starts today's round if it has not started; before the opening time only when <paramref name="force"/> (the demo).</summary>
    public async Task<DateOnly?> OpenTodayAsync(DurableTaskClient durable, bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!force && London.TimeOfDay(now) < options.OpensAt)
        {
            return null;
        }

        var today = London.Today(now);
        var instance = RoundOrchestration.InstanceId(today);
        if (await rounds.ClaimStartAsync(today, now, async () => await durable.GetInstanceAsync(instance, cancellationToken) is null, cancellationToken))
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(
                RoundOrchestration.Name, new RoundInput(today), new StartOrchestrationOptions(instance), cancellationToken);
            LogStarted(today);
        }

        return today;
    }

    [LoggerMessage(LogLevel.Information, "OPEL round {Date} started")]
    private partial void LogStarted(DateOnly date);
}
