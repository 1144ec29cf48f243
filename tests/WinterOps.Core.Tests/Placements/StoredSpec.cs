using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Placements;

/// <summary>
/// Given(events).When(command).Then(events) like <see cref="DeciderSpec"/>, but events are compared
/// in their stored form (type name and JSON). Placement and care-home events hold lists and
/// dictionaries, which record equality compares by reference: two equal <c>OffersMade</c> built
/// separately are not <c>Equals</c>, while their stored forms are the contract that must match.
/// </summary>
public static class StoredSpec
{
    public static StoredSpec<TState, TCommand, TEvent> For<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
        where TState : class
        where TCommand : class
        where TEvent : class =>
        new(workflow);

    /// <summary>The stored form of events: one "TypeName {json}" line each.</summary>
    public static List<string> Stored<TEvent>(TypeNames<TEvent> names, IEnumerable<TEvent> events)
        where TEvent : class =>
        events.Select(e => $"{names.NameOf(e)} {names.Serialize(e)}").ToList();
}

public sealed class StoredSpec<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    public StoredGiven<TState, TCommand, TEvent> Given(params TEvent[] history) => new(workflow, workflow.Fold(history));
}

public sealed class StoredGiven<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow, TState state)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    /// <summary>The state the history folds into.</summary>
    public TState State => state;

    public StoredWhen<TState, TCommand, TEvent> When(TCommand command)
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

public sealed class StoredWhen<TState, TCommand, TEvent>
    where TState : class
    where TCommand : class
    where TEvent : class
{
    private readonly WorkflowDefinition<TState, TCommand, TEvent> _workflow;
    private readonly TState _given;
    private readonly IReadOnlyList<TEvent> _events;
    private readonly CommandRejectedException? _rejection;

    internal StoredWhen(WorkflowDefinition<TState, TCommand, TEvent> workflow, TState given, IReadOnlyList<TEvent> events, CommandRejectedException? rejection)
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
    public StoredWhen<TState, TCommand, TEvent> Then(params TEvent[] expected)
    {
        if (_rejection is not null)
        {
            throw new ShouldAssertException($"Expected {expected.Length} event(s), but the command was rejected: {_rejection.Message}");
        }

        StoredSpec.Stored(_workflow.Events, _events).ShouldBe(StoredSpec.Stored(_workflow.Events, expected));
        return this;
    }

    /// <summary>The command does not apply in this state.</summary>
    public CommandRejectedException ThenRejected()
    {
        if (_rejection is null)
        {
            throw new ShouldAssertException(
                $"Expected a rejection, but the command was accepted with {_events.Count} event(s): {string.Join(", ", StoredSpec.Stored(_workflow.Events, _events))}");
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
