using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Tests;

/// <summary>
/// A tiny workflow for engine tests: a reminder is set with a due time (a durable timer), and either
/// fires or is dismissed first. Adding notes is deliberately not idempotent (each note is an event).
/// </summary>
public static class ReminderWorkflow
{
    public abstract record Command
    {
        private Command()
        {
        }

        public sealed record SetFor(DateTimeOffset DueAt) : Command;

        public sealed record AddNote(string Text) : Command;

        public sealed record Fire(DateTimeOffset DueAt) : Command;

        public sealed record Dismiss : Command;
    }

    public abstract record Happened
    {
        private Happened()
        {
        }

        public sealed record WasSet(DateTimeOffset DueAt) : Happened;

        public sealed record NoteAdded(string Text) : Happened;

        public sealed record Fired : Happened;

        public sealed record Dismissed : Happened;
    }

    public sealed record State(string Phase, DateTimeOffset? DueAt, int Notes);

    public static readonly WorkflowDefinition<State, Command, Happened> Definition = new(
        "reminder",
        new State("none", null, 0),
        Decide,
        Evolve,
        React,
        new TypeNames<Command>(
            ("Set", typeof(Command.SetFor)), ("AddNote", typeof(Command.AddNote)), ("Fire", typeof(Command.Fire)), ("Dismiss", typeof(Command.Dismiss))),
        new TypeNames<Happened>(
            ("ReminderSet", typeof(Happened.WasSet)), ("NoteAdded", typeof(Happened.NoteAdded)), ("ReminderFired", typeof(Happened.Fired)), ("ReminderDismissed", typeof(Happened.Dismissed))),
        new TypeNames<State>(("Reminder", typeof(State))));

    private static IEnumerable<Happened> Decide(Command command, State state) => (command, state.Phase) switch
    {
        (Command.SetFor c, "none") => [new Happened.WasSet(c.DueAt)],
        (Command.SetFor c, "waiting") when c.DueAt == state.DueAt => [],
        (Command.AddNote c, _) => [new Happened.NoteAdded(c.Text)],
        (Command.Fire c, "waiting") when c.DueAt == state.DueAt => [new Happened.Fired()],
        (Command.Fire, _) => [], // a timer that no longer applies
        (Command.Dismiss, "waiting") => [new Happened.Dismissed()],
        (Command.Dismiss, _) => [],
        _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply when {state.Phase}."),
    };

    private static State Evolve(State state, Happened @event) => @event switch
    {
        Happened.WasSet e => state with { Phase = "waiting", DueAt = e.DueAt },
        Happened.NoteAdded => state with { Notes = state.Notes + 1 },
        Happened.Fired => state with { Phase = "fired" },
        Happened.Dismissed => state with { Phase = "dismissed" },
        _ => state,
    };

    private static IEnumerable<Reaction> React(string streamId, State state, Happened @event) => @event switch
    {
        Happened.WasSet e => [new Reaction.Send("reminder", streamId["reminder-".Length..], new Command.Fire(e.DueAt), e.DueAt)],
        Happened.Fired => [new Reaction.Notify(new Notification(
            "ReminderFired", Recipient.Role("Coordinator"), "Reminder fired", streamId, new Dictionary<string, string> { ["stream"] = streamId }))],
        _ => [],
    };
}
