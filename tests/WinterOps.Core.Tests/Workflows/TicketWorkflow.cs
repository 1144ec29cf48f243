using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public abstract record TicketCommand
{
    private TicketCommand()
    {
    }

    public sealed record Open(string Key, DateTimeOffset Now) : TicketCommand;

    /// <summary>Deliberately not idempotent by state: every Add counts, so only its command id stops a repeat.</summary>
    public sealed record Add(int Amount) : TicketCommand;

    public sealed record Close : TicketCommand;

    /// <summary>The ticket's deadline timer; ignored when the ticket is no longer open.</summary>
    public sealed record Timeout(DateTimeOffset DueAt) : TicketCommand;
}

public abstract record TicketEvent
{
    private TicketEvent()
    {
    }

    /// <summary>The ticket was opened and must be closed before <paramref name="DueAt"/>.</summary>
    public sealed record Opened(string Key, DateTimeOffset DueAt) : TicketEvent;

    /// <summary>An amount was added to the ticket's total.</summary>
    public sealed record Added(int Amount) : TicketEvent;

    /// <summary>The ticket was closed with its final total.</summary>
    public sealed record Closed(int Total) : TicketEvent;

    /// <summary>The ticket's deadline passed while it was open.</summary>
    public sealed record TimedOut(DateTimeOffset DueAt) : TicketEvent;
}

public abstract record TicketState
{
    private TicketState()
    {
    }

    /// <summary>No ticket has this key.</summary>
    public sealed record None : TicketState;

    /// <summary>An open ticket and its running total.</summary>
    public sealed record Open(string Key, int Total, DateTimeOffset DueAt) : TicketState;

    /// <summary>Closed in time.</summary>
    public sealed record Closed(string Key, int Total) : TicketState;

    /// <summary>Still open at its deadline.</summary>
    public sealed record TimedOut(string Key, int Total) : TicketState;
}

/// <summary>
/// A workflow small enough to read at a glance that uses everything the engine carries: a
/// non-idempotent command, repeats that are no-ops, a rejection, a durable timer (a
/// <see cref="Reaction.Send"/> with a due time) and notifications. Stored state names differ from
/// the CLR names on purpose, so tests can tell which one the engine used.
/// </summary>
public static class TicketWorkflow
{
    public const string Name = "ticket";

    public static readonly TimeSpan Deadline = TimeSpan.FromHours(4);

    public static readonly WorkflowDefinition<TicketState, TicketCommand, TicketEvent> Definition = new(
        Name,
        new TicketState.None(),
        Decide,
        Evolve,
        React,
        new TypeNames<TicketCommand>(
            ("TicketOpen", typeof(TicketCommand.Open)),
            ("TicketAdd", typeof(TicketCommand.Add)),
            ("TicketClose", typeof(TicketCommand.Close)),
            ("TicketTimeout", typeof(TicketCommand.Timeout))),
        new TypeNames<TicketEvent>(
            ("TicketOpened", typeof(TicketEvent.Opened)),
            ("TicketAdded", typeof(TicketEvent.Added)),
            ("TicketClosed", typeof(TicketEvent.Closed)),
            ("TicketTimedOut", typeof(TicketEvent.TimedOut))),
        new TypeNames<TicketState>(
            ("NoTicket", typeof(TicketState.None)),
            ("OpenTicket", typeof(TicketState.Open)),
            ("ClosedTicket", typeof(TicketState.Closed)),
            ("TimedOutTicket", typeof(TicketState.TimedOut))));

    public static IEnumerable<TicketEvent> Decide(TicketCommand command, TicketState state) =>
        (command, state) switch
        {
            (TicketCommand.Open c, TicketState.None) => [new TicketEvent.Opened(c.Key, c.Now + Deadline)],
            (TicketCommand.Open, TicketState.Open) => [],
            (TicketCommand.Add c, TicketState.Open) => [new TicketEvent.Added(c.Amount)],
            (TicketCommand.Close, TicketState.Open s) => [new TicketEvent.Closed(s.Total)],
            (TicketCommand.Close, TicketState.Closed) => [],
            (TicketCommand.Timeout c, TicketState.Open s) when c.DueAt == s.DueAt => [new TicketEvent.TimedOut(c.DueAt)],
            (TicketCommand.Timeout, _) => [],
            _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to this ticket."),
        };

    public static TicketState Evolve(TicketState state, TicketEvent @event) =>
        (state, @event) switch
        {
            (TicketState.None, TicketEvent.Opened e) => new TicketState.Open(e.Key, 0, e.DueAt),
            (TicketState.Open s, TicketEvent.Added e) => s with { Total = s.Total + e.Amount },
            (TicketState.Open s, TicketEvent.Closed) => new TicketState.Closed(s.Key, s.Total),
            (TicketState.Open s, TicketEvent.TimedOut) => new TicketState.TimedOut(s.Key, s.Total),
            _ => state,
        };

    public static IEnumerable<Reaction> React(string streamId, TicketState state, TicketEvent @event) =>
        @event switch
        {
            TicketEvent.Opened e =>
            [
                new Reaction.Send(Name, e.Key, new TicketCommand.Timeout(e.DueAt), e.DueAt),
                new Reaction.Notify(new Notification(
                    "TicketOpened", Recipient.Role("Coordinator"), $"Ticket {e.Key} opened", streamId,
                    new Dictionary<string, string> { ["key"] = e.Key })),
            ],
            TicketEvent.Closed e =>
            [
                new Reaction.Notify(new Notification(
                    "TicketClosed", Recipient.Role("Coordinator"), "Ticket closed", streamId,
                    new Dictionary<string, string> { ["total"] = e.Total.ToString(System.Globalization.CultureInfo.InvariantCulture) })),
            ],
            _ => [],
        };
}
