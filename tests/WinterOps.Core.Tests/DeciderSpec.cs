using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests;

/// <summary>
/// Given(events).When(command).Then(events) over a workflow's pure functions: the history is folded
/// with the workflow's own <c>Evolve</c>, the command goes to <c>Decide</c>, and the new events are
/// compared in their stored form (type name and JSON), the contract that must match; record equality
/// would compare the lists and dictionaries inside events by reference. No store, no mocks.
/// </summary>
public static class DeciderSpec
{
    public static DeciderSpec<TState, TCommand, TEvent> For<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
        where TState : class
        where TCommand : class
        where TEvent : class =>
        new(workflow);

    /// <summary>The stored form of events: one "TypeName {json}" line each.</summary>
    public static List<string> Stored<TEvent>(TypeNames<TEvent> names, IEnumerable<TEvent> events)
        where TEvent : class =>
        events.Select(e => $"{names.NameOf(e)} {names.Serialize(e)}").ToList();
}

public sealed class DeciderSpec<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
    where TState : class
    where TCommand : class
    where TEvent : class
{
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
    private readonly TState _given;
    private readonly IReadOnlyList<TEvent> _events;
    private readonly CommandRejectedException? _rejection;

    internal DeciderWhen(WorkflowDefinition<TState, TCommand, TEvent> workflow, TState given, IReadOnlyList<TEvent> events, CommandRejectedException? rejection)
    {
        _workflow = workflow;
        _given = given;
        _events = events;
        _rejection = rejection;
    }

    /// <summary>The state after the new events are folded in.</summary>
    public TState State => _events.Aggregate(_given, _workflow.Evolve);

    /// <summary>The new events.</summary>
    public IReadOnlyList<TEvent> Events => _events;

    /// <summary>The command is accepted and yields exactly these events, compared in stored form (none: already reflected in the state).</summary>
    public DeciderWhen<TState, TCommand, TEvent> Then(params TEvent[] expected)
    {
        if (_rejection is not null)
        {
            throw new ShouldAssertException($"Expected {expected.Length} event(s), but the command was rejected: {_rejection.Message}");
        }

        DeciderSpec.Stored(_workflow.Events, _events).ShouldBe(DeciderSpec.Stored(_workflow.Events, expected));
        return this;
    }

    /// <summary>The command does not apply in this state.</summary>
    public CommandRejectedException ThenRejected()
    {
        if (_rejection is null)
        {
            throw new ShouldAssertException(
                $"Expected a rejection, but the command was accepted with {_events.Count} event(s): {string.Join(", ", DeciderSpec.Stored(_workflow.Events, _events))}");
        }

        return _rejection;
    }

    /// <summary>What the new events cause, each seen with the state just after it (as the command handler sees it).</summary>
    public IReadOnlyList<Reaction> Reactions(string streamId)
    {
        var state = _given;
        var reactions = new List<Reaction>();
        foreach (var @event in _events)
        {
            state = _workflow.Evolve(state, @event);
            reactions.AddRange(_workflow.React(streamId, state, @event));
        }

        return reactions;
    }
}
