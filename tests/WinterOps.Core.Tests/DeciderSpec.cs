using System.Text.Json;
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
    /// <summary>
    /// Pure rules without an engine definition (run by an orchestration): events are compared as <paramref name="stored"/>
    /// writes them, and <paramref name="react"/>, if any, needs no stream id.
    /// </summary>
    public static DeciderSpec<TState, TCommand, TEvent> For<TState, TCommand, TEvent>(
        TState initial,
        Func<TCommand, TState, IEnumerable<TEvent>> decide,
        Func<TState, TEvent, TState> evolve,
        Func<TEvent, string> stored,
        Func<TState, TEvent, IEnumerable<Reaction>>? react = null)
        where TState : class
        where TCommand : class
        where TEvent : class =>
        new(new DeciderRules<TState, TCommand, TEvent>(initial, decide, evolve, stored, react));

    /// <summary>The stored form of events: one "TypeName {json}" line each.</summary>
    public static List<string> Stored<TEvent>(TypeNames<TEvent> names, IEnumerable<TEvent> events)
        where TEvent : class =>
        events.Select(e => $"{names.NameOf(e)} {names.Serialize(e)}").ToList();

    /// <summary>For events that have no stored names: their class name and JSON, as the application serializes them.</summary>
    public static string AsJson<TEvent>(TEvent e)
        where TEvent : class =>
        $"{e.GetType().Name} {JsonSerializer.Serialize(e, e.GetType(), WorkflowJson.Options)}";
}

/// <summary>The pure functions a spec runs.</summary>
public sealed record DeciderRules<TState, TCommand, TEvent>(
    TState Initial,
    Func<TCommand, TState, IEnumerable<TEvent>> Decide,
    Func<TState, TEvent, TState> Evolve,
    Func<TEvent, string> Stored,
    Func<TState, TEvent, IEnumerable<Reaction>>? React)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    public TState Fold(IEnumerable<TEvent> events) => events.Aggregate(Initial, Evolve);

    public List<string> StoredAll(IEnumerable<TEvent> events) => events.Select(Stored).ToList();
}

public sealed class DeciderSpec<TState, TCommand, TEvent>(DeciderRules<TState, TCommand, TEvent> rules)
    where TState : class
    where TCommand : class
    where TEvent : class
{
    public DeciderGiven<TState, TCommand, TEvent> Given(params TEvent[] history) => new(rules, rules.Fold(history));
}

public sealed class DeciderGiven<TState, TCommand, TEvent>(DeciderRules<TState, TCommand, TEvent> rules, TState state)
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
            return new(rules, state, rules.Decide(command, state).ToList(), null);
        }
        catch (CommandRejectedException rejected)
        {
            return new(rules, state, [], rejected);
        }
    }
}

public sealed class DeciderWhen<TState, TCommand, TEvent>
    where TState : class
    where TCommand : class
    where TEvent : class
{
    private readonly DeciderRules<TState, TCommand, TEvent> _rules;
    private readonly TState _given;
    private readonly IReadOnlyList<TEvent> _events;
    private readonly CommandRejectedException? _rejection;

    internal DeciderWhen(DeciderRules<TState, TCommand, TEvent> rules, TState given, IReadOnlyList<TEvent> events, CommandRejectedException? rejection)
    {
        _rules = rules;
        _given = given;
        _events = events;
        _rejection = rejection;
    }

    /// <summary>The state after the new events are folded in.</summary>
    public TState State => _events.Aggregate(_given, _rules.Evolve);

    /// <summary>The new events.</summary>
    public IReadOnlyList<TEvent> Events => _events;

    /// <summary>The command is accepted and yields exactly these events, compared in stored form (none: already reflected in the state).</summary>
    public DeciderWhen<TState, TCommand, TEvent> Then(params TEvent[] expected)
    {
        if (_rejection is not null)
        {
            throw new ShouldAssertException($"Expected {expected.Length} event(s), but the command was rejected: {_rejection.Message}");
        }

        _rules.StoredAll(_events).ShouldBe(_rules.StoredAll(expected));
        return this;
    }

    /// <summary>The command does not apply in this state.</summary>
    public CommandRejectedException ThenRejected()
    {
        if (_rejection is null)
        {
            throw new ShouldAssertException(
                $"Expected a rejection, but the command was accepted with {_events.Count} event(s): {string.Join(", ", _rules.StoredAll(_events))}");
        }

        return _rejection;
    }

    /// <summary>What the new events cause, each seen with the state just after it.</summary>
    public IReadOnlyList<Reaction> Reactions()
    {
        var react = _rules.React
            ?? throw new InvalidOperationException("These rules have no reactions.");
        return ReactionsWith(react);
    }

    private List<Reaction> ReactionsWith(Func<TState, TEvent, IEnumerable<Reaction>> react)
    {
        var state = _given;
        var reactions = new List<Reaction>();
        foreach (var @event in _events)
        {
            state = _rules.Evolve(state, @event);
            reactions.AddRange(react(state, @event));
        }

        return reactions;
    }
}
