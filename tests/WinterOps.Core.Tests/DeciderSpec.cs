using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests;

/// <summary>
/// Given(events).When(command).Then(events) over a workflow's pure functions: the history is folded
/// with the workflow's own <c>Evolve</c>, the command goes to <c>Decide</c>, and the outcome is
/// compared by value. No store, no handler, no mocks.
/// </summary>
public static class DeciderSpec
{
    public static DeciderSpec<TState, TCommand, TEvent> For<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow)
        where TState : class
        where TCommand : class
        where TEvent : class =>
        new(workflow);
}

public sealed class DeciderSpec<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    /// <summary>The events already in the stream (none for a new stream).</summary>
    public DeciderGiven<TState, TCommand, TEvent> Given(params TEvent[] history) => new(workflow, workflow.Fold(history));
}

public sealed class DeciderGiven<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow, TState state)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    /// <summary>The state the history folds into.</summary>
    public TState State => state;

    public DeciderWhen<TState, TCommand, TEvent> When(TCommand command)
    {
        try
        {
            return new(workflow, state, workflow.Decide(command, state).ToList(), null);
        }
        catch (CommandRejectedException rejected)
        {
            return new(workflow, state, [], rejected);
        }
    }
}

public sealed class DeciderWhen<TState, TCommand, TEvent>
    where TState : class
    where TCommand : class
    where TEvent : class
{
    private readonly WorkflowDefinition<TState, TCommand, TEvent> _workflow;
    private readonly TState _state;
    private readonly IReadOnlyList<TEvent> _events;
    private readonly CommandRejectedException? _rejection;

    internal DeciderWhen(
        WorkflowDefinition<TState, TCommand, TEvent> workflow, TState state, IReadOnlyList<TEvent> events, CommandRejectedException? rejection)
    {
        _workflow = workflow;
        _state = state;
        _events = events;
        _rejection = rejection;
    }

    /// <summary>The command is accepted and yields exactly these events (none: it is already reflected in the state).</summary>
    public DeciderThen<TState, TCommand, TEvent> Then(params TEvent[] expected)
    {
        if (_rejection is not null)
        {
            throw new ShouldAssertException($"Expected {expected.Length} event(s), but the command was rejected: {_rejection.Message}");
        }

        _events.ShouldBe(expected);
        return new(_workflow, _state, _events);
    }

    /// <summary>The command does not apply in this state.</summary>
    public CommandRejectedException ThenRejected()
    {
        if (_rejection is null)
        {
            throw new ShouldAssertException(
                $"Expected a rejection, but the command was accepted with {_events.Count} event(s): {string.Join(", ", _events)}");
        }

        return _rejection;
    }
}

public sealed class DeciderThen<TState, TCommand, TEvent>(
    WorkflowDefinition<TState, TCommand, TEvent> workflow, TState given, IReadOnlyList<TEvent> events)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    /// <summary>The state after the new events are folded in.</summary>
    public TState State => events.Aggregate(given, workflow.Evolve);

    /// <summary>What the new events cause, each seen with the state just after it (as the handler sees it).</summary>
    public IReadOnlyList<Reaction> Reactions(string streamId)
    {
        var state = given;
        var reactions = new List<Reaction>();
        foreach (var @event in events)
        {
            state = workflow.Evolve(state, @event);
            reactions.AddRange(workflow.React(streamId, state, @event));
        }

        return reactions;
    }
}
