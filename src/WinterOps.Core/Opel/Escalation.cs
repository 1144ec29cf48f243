using System.Globalization;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Opel;

/// <summary>The escalation rules of DOMAIN.md; which ones apply is configuration.</summary>
public enum EscalationRule
{
    /// <summary>Rule 1: the system level is 3 or above at assessment.</summary>
    SystemLevel,

    /// <summary>Rule 2: a partner is at effective OPEL 4.</summary>
    PartnerAtOpel4,

    /// <summary>Rule 3: the system level rose by 1 or more since the previous day.</summary>
    SystemLevelRose,

    /// <summary>Rule 4: the system has been at 3 or above for 3 consecutive days.</summary>
    SustainedPressure,

    /// <summary>Rule 5: a placement is unplaced past its required-by date.</summary>
    PlacementUnplacedPastRequiredBy,
}

public enum EscalationStatus
{
    None,
    Alerted,
    Acknowledged,
    Resolved,
}

/// <summary>A person on the on-call ladder, alerted in order until someone acknowledges.</summary>
public sealed record OnCallContact(string Name, string? EntraUserId, string Org);

/// <summary>One alert sent (first, or a re-alert to the next contact when nobody acknowledged in time).</summary>
public sealed record Alert(int Step, OnCallContact Contact, DateTimeOffset At, DateTimeOffset AcknowledgeBy);

public abstract record EscalationCommand
{
    private EscalationCommand()
    {
    }

    /// <summary>Raise an escalation for a condition; the same condition on the same day (the same escalation id) raises once.</summary>
    public sealed record Raise(
        EscalationRule Rule, DateOnly Date, string Subject, string Summary, IReadOnlyDictionary<string, string> Details,
        IReadOnlyList<OnCallContact> Ladder, TimeSpan AcknowledgeWithin, DateTimeOffset At) : EscalationCommand;

    /// <summary>A timer: the acknowledgement window of alert <paramref name="Step"/> ended.</summary>
    public sealed record AcknowledgementDue(int Step, DateTimeOffset At) : EscalationCommand;

    public sealed record Acknowledge(string By, string? Note, DateTimeOffset At) : EscalationCommand;

    /// <summary>Close it: the condition cleared (a re-assessment), or a coordinator closed it with a reason.</summary>
    public sealed record Resolve(string Reason, DateTimeOffset At) : EscalationCommand;
}

public abstract record EscalationEvent
{
    private EscalationEvent()
    {
    }

    /// <summary>A condition of an escalation rule was met.</summary>
    public sealed record Raised(
        EscalationRule Rule, DateOnly Date, string Subject, string Summary, IReadOnlyDictionary<string, string> Details,
        IReadOnlyList<OnCallContact> Ladder, TimeSpan AcknowledgeWithin, DateTimeOffset At) : EscalationEvent;

    /// <summary>A contact was alerted (Teams, Service Bus and inbox) and must acknowledge in time.</summary>
    public sealed record Alerted(Alert Alert) : EscalationEvent;

    /// <summary>An executive acknowledged: the ladder stops.</summary>
    public sealed record Acknowledged(string By, string? Note, DateTimeOffset At) : EscalationEvent;

    /// <summary>The escalation was closed.</summary>
    public sealed record Resolved(string Reason, DateTimeOffset At) : EscalationEvent;

    /// <summary>
    /// The condition was found clear before any escalation was raised for it (a later assessment's
    /// resolution overtook the raise in the queue): a raise from before this time is stale.
    /// </summary>
    public sealed record Cleared(string Reason, DateTimeOffset At) : EscalationEvent;
}

/// <summary>An escalation and its alert history.</summary>
public sealed record EscalationState(
    EscalationStatus Status, EscalationEvent.Raised? Raised, IReadOnlyList<Alert> Alerts, EscalationEvent.Acknowledged? Acknowledgement,
    EscalationEvent.Resolved? Resolution, DateTimeOffset? ClearedAt = null)
{
    public static EscalationState Initial { get; } = new(EscalationStatus.None, null, [], null, null);
}

/// <summary>
/// An escalation: raised -> alerted -> acknowledged within the window, else re-alerted to the next
/// contact on the on-call ladder (wrapping round) until someone does; resolved when the condition
/// clears or a coordinator closes it. One escalation (and one orchestration) per condition and day, so duplicates cannot arise.
/// </summary>
public static class EscalationWorkflow
{
    public const string Name = "escalation";

    /// <summary>The ladder of rule 5: the coordination centre (every Coordinator), re-alerted until one acknowledges.</summary>
    public static readonly OnCallContact CoordinationCentre = new("Coordination centre", null, "");

    /// <summary>Who an alert is for: the coordination centre for an unplaced placement, the executives otherwise.</summary>
    public static Recipient AlertedRole(EscalationRule rule) =>
        Recipient.Role(rule == EscalationRule.PlacementUnplacedPastRequiredBy ? "Coordinator" : "Executive");

    /// <summary>The id of a condition on a day: the same condition, the same escalation.</summary>
    public static string Key(DateOnly date, EscalationRule rule, string subject) =>
        $"{date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{rule}-{subject}";

    /// <summary>The stored names of the audited events.</summary>
    public static readonly TypeNames<EscalationEvent> Events = new(
        ("EscalationRaised", typeof(EscalationEvent.Raised)),
        ("EscalationAlerted", typeof(EscalationEvent.Alerted)),
        ("EscalationAcknowledged", typeof(EscalationEvent.Acknowledged)),
        ("EscalationResolved", typeof(EscalationEvent.Resolved)),
        ("EscalationConditionCleared", typeof(EscalationEvent.Cleared)));

    /// <summary>The stored names of the commands (a person's acknowledgement or resolution is stored before the orchestration decides it).</summary>
    public static readonly TypeNames<EscalationCommand> Commands = new(
        ("RaiseEscalation", typeof(EscalationCommand.Raise)),
        ("AcknowledgementDue", typeof(EscalationCommand.AcknowledgementDue)),
        ("AcknowledgeEscalation", typeof(EscalationCommand.Acknowledge)),
        ("ResolveEscalation", typeof(EscalationCommand.Resolve)));

    public static IEnumerable<EscalationEvent> Decide(EscalationCommand command, EscalationState state) => (command, state.Status) switch
    {
        (EscalationCommand.Raise c, EscalationStatus.None) when state.ClearedAt >= c.At => [], // overtaken by a later all-clear
        (EscalationCommand.Raise c, EscalationStatus.None) when c.Ladder.Count == 0 =>
            throw new CommandRejectedException("An escalation needs at least one on-call contact."),
        (EscalationCommand.Raise c, EscalationStatus.None) =>
        [
            new EscalationEvent.Raised(c.Rule, c.Date, c.Subject, c.Summary, c.Details, c.Ladder, c.AcknowledgeWithin, c.At),
            new EscalationEvent.Alerted(new Alert(1, c.Ladder[0], c.At, c.At + c.AcknowledgeWithin)),
        ],
        // Met again after it was resolved (e.g. the system level fell, then rose): the same escalation reopens.
        (EscalationCommand.Raise c, EscalationStatus.Resolved) when c.At > state.Resolution!.At =>
        [
            new EscalationEvent.Raised(c.Rule, c.Date, c.Subject, c.Summary, c.Details, c.Ladder, c.AcknowledgeWithin, c.At),
            new EscalationEvent.Alerted(new Alert(state.Alerts.Count + 1, c.Ladder[0], c.At, c.At + c.AcknowledgeWithin)),
        ],
        (EscalationCommand.Raise, _) => [], // the same condition on the same day: already raised

        (EscalationCommand.AcknowledgementDue c, EscalationStatus.Alerted) when c.Step == state.Alerts.Count =>
        [
            new EscalationEvent.Alerted(new Alert(
                c.Step + 1, state.Raised!.Ladder[c.Step % state.Raised.Ladder.Count], c.At, c.At + state.Raised.AcknowledgeWithin)),
        ],
        (EscalationCommand.AcknowledgementDue, _) => [], // acknowledged, resolved, or a later alert is running

        (EscalationCommand.Acknowledge c, EscalationStatus.Alerted) => [new EscalationEvent.Acknowledged(c.By, c.Note, c.At)],
        (EscalationCommand.Acknowledge, EscalationStatus.Acknowledged) => [],
        (EscalationCommand.Acknowledge, _) => throw new CommandRejectedException($"The escalation is {state.Status}; there is nothing to acknowledge."),

        (EscalationCommand.Resolve c, EscalationStatus.Alerted or EscalationStatus.Acknowledged) when c.At < state.Raised!.At => [], // older than the raise
        (EscalationCommand.Resolve c, EscalationStatus.Alerted or EscalationStatus.Acknowledged) => [new EscalationEvent.Resolved(c.Reason, c.At)],
        (EscalationCommand.Resolve c, EscalationStatus.None) when !(state.ClearedAt >= c.At) => [new EscalationEvent.Cleared(c.Reason, c.At)],
        (EscalationCommand.Resolve, _) => [], // already resolved or cleared

        _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to an escalation that is {state.Status}."),
    };

    public static EscalationState Evolve(EscalationState state, EscalationEvent @event) => @event switch
    {
        EscalationEvent.Raised e => state with { Raised = e, Acknowledgement = null, Resolution = null },
        EscalationEvent.Alerted e => state with { Status = EscalationStatus.Alerted, Alerts = [.. state.Alerts, e.Alert] },
        EscalationEvent.Acknowledged e => state with { Status = EscalationStatus.Acknowledged, Acknowledgement = e },
        EscalationEvent.Resolved e => state with { Status = EscalationStatus.Resolved, Resolution = e },
        EscalationEvent.Cleared e => state with { ClearedAt = e.At },
        _ => state,
    };

    /// <summary>Who hears of an event of escalation <paramref name="key"/>: the alerted (and the next on the ladder), then the coordinators.</summary>
    public static IEnumerable<Notification> Notices(string key, EscalationState state, EscalationEvent @event)
    {
        if (state.Raised is not { } raised)
        {
            yield break; // cleared before anything was raised: nobody to tell
        }

        var data = new Dictionary<string, string>(raised.Details)
        {
            ["escalationId"] = key,
            ["rule"] = raised.Rule.ToString(),
            ["date"] = raised.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        switch (@event)
        {
            case EscalationEvent.Alerted e:
                var alert = new Dictionary<string, string>(data) { ["step"] = e.Alert.Step.ToString(CultureInfo.InvariantCulture), ["acknowledgeBy"] = e.Alert.AcknowledgeBy.ToString("O", CultureInfo.InvariantCulture) };
                IReadOnlyList<string>? person = e.Alert.Contact.EntraUserId is { } user ? [user] : null;

                // One notice: the Executives, or the coordination centre for rule 5 (and the contact in Teams), and the contact's organisation.
                yield return new Notification(
                    "EscalationAlert", AlertedRole(raised.Rule), $"{(e.Alert.Step > 1 ? "Not acknowledged: " : "")}{raised.Summary}", key, alert,
                    $"/escalations/{key}", e.Alert.Contact.Org.Length > 0 ? [Recipient.Org(e.Alert.Contact.Org)] : null, Severity.Critical, person);
                break;
            case EscalationEvent.Acknowledged e:
                yield return new Notification("EscalationAcknowledged", Recipient.Role("Coordinator"), $"Acknowledged by {e.By}: {raised.Summary}", key, data, $"/escalations/{key}");
                break;
            case EscalationEvent.Resolved:
                yield return new Notification("EscalationResolved", Recipient.Role("Coordinator"), $"Resolved: {raised.Summary}", key, data, $"/escalations/{key}");
                break;
        }
    }
}
