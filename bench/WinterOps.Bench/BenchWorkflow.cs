using WinterOps.Core.Workflows;

namespace WinterOps.Bench;

internal sealed record Tick(long N);

internal sealed record Ticked(long N);

internal sealed record Counter(long Ticks);

/// <summary>The smallest real workflow: every command appends one event; optionally every event notifies.</summary>
internal static class BenchWorkflow
{
    /// <summary>No reactions: head + event + command row, no outbox.</summary>
    public static readonly WorkflowDefinition<Counter, Tick, Ticked> Plain = Define("bench", notify: false);

    /// <summary>One Notify per event: also an outbox row, and a message on the dispatch queue.</summary>
    public static readonly WorkflowDefinition<Counter, Tick, Ticked> Notifying = Define("benchnotify", notify: true);

    /// <summary>One Notify per event addressed to 100 organisations: one intent, 100 Service Bus messages in one batch.</summary>
    public static readonly WorkflowDefinition<Counter, Tick, Ticked> Fanout = Define("benchfanout", notify: true, orgs: 100);

    private static WorkflowDefinition<Counter, Tick, Ticked> Define(string name, bool notify, int orgs = 0) => new(
        name,
        new Counter(0),
        (command, _) => [new Ticked(command.N)],
        (state, _) => new Counter(state.Ticks + 1),
        (streamId, state, @event) => notify ? [Notify(streamId, state, @event, orgs)] : [],
        new TypeNames<Tick>(("Tick", typeof(Tick))),
        new TypeNames<Ticked>(("Ticked", typeof(Ticked))),
        new TypeNames<Counter>(("Counter", typeof(Counter))));

    private static Reaction.Notify Notify(string streamId, Counter state, Ticked @event, int orgs)
    {
        var recipients = orgs == 0 ? [Recipient.Role("Coordinator")] : Enumerable.Range(0, orgs).Select(i => Recipient.Org($"R{i:D3}")).ToList();
        return new(new Notification(
            "BenchTicked",
            recipients[0],
            $"Tick {@event.N}",
            streamId,
            new Dictionary<string, string> { ["ticks"] = state.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            AlsoTo: [.. recipients.Skip(1)]));
    }
}
