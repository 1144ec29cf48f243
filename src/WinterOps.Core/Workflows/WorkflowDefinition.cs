namespace WinterOps.Core.Workflows;

/// <summary>
/// A workflow type: closed sets of commands and events, a state, and the pure functions over them.
/// <c>Decide</c> turns a command and the current state into new events (none when the command is
/// already reflected in the state); <c>Evolve</c> folds one event into the state; <c>React</c> says
/// what must happen after an event (notifications, timers, commands to other streams). None of them
/// performs I/O or reads a clock: time and ids come in on the command.
/// </summary>
public sealed record WorkflowDefinition<TState, TCommand, TEvent>(
    string Name,
    TState Initial,
    Func<TCommand, TState, IEnumerable<TEvent>> Decide,
    Func<TState, TEvent, TState> Evolve,
    Func<string, TState, TEvent, IEnumerable<Reaction>> React,
    TypeNames<TCommand> Commands,
    TypeNames<TEvent> Events,
    TypeNames<TState> States) : IWorkflowDefinition
    where TState : class
    where TCommand : class
    where TEvent : class
{
    /// <summary>The stream id of one instance: the workflow name and the instance key.</summary>
    public string StreamId(string key) => StreamIds.For(Name, key);

    /// <summary>Folds events into a state, from <see cref="Initial"/>.</summary>
    public TState Fold(IEnumerable<TEvent> events) => events.Aggregate(Initial, Evolve);

    (string Type, string Json) IWorkflowDefinition.SerializeCommand(object command) =>
        command is TCommand typed
            ? (Commands.NameOf(typed), Commands.Serialize(typed))
            : throw new ArgumentException($"{command.GetType().Name} is not a {Name} command.", nameof(command));

    async Task<CommandOutcome> IWorkflowDefinition.HandleSerializedAsync(
        CommandHandler handler, string key, string commandType, string commandJson, CommandContext context, CancellationToken cancellationToken)
    {
        var command = Commands.Deserialize(commandType, commandJson);
        var result = await handler.HandleAsync(this, key, command, context, cancellationToken: cancellationToken);
        return new CommandOutcome(result.StreamId, result.Version, result.NewEvents.Count);
    }
}

/// <summary>The untyped face of a workflow, used where commands arrive serialized (queues, timers).</summary>
public interface IWorkflowDefinition
{
    string Name { get; }

    (string Type, string Json) SerializeCommand(object command);

    Task<CommandOutcome> HandleSerializedAsync(
        CommandHandler handler, string key, string commandType, string commandJson, CommandContext context, CancellationToken cancellationToken);
}

public sealed record CommandOutcome(string StreamId, long Version, int NewEvents);

/// <summary>Every workflow the application runs, by name; the target of queued commands and timers.</summary>
public sealed class WorkflowCatalog
{
    private readonly Dictionary<string, IWorkflowDefinition> _byName;

    public WorkflowCatalog(IEnumerable<IWorkflowDefinition> workflows)
    {
        _byName = [];
        foreach (var workflow in workflows)
        {
            if (!_byName.TryAdd(workflow.Name, workflow))
            {
                throw new ArgumentException($"Workflow '{workflow.Name}' is registered twice.", nameof(workflows));
            }
        }
    }

    public IWorkflowDefinition Get(string name) =>
        _byName.TryGetValue(name, out var workflow)
            ? workflow
            : throw new UnknownTypeException($"Unknown workflow '{name}'.");
}

public static class StreamIds
{
    /// <summary>
    /// Stream ids are Table partition keys: they must not contain '/', '\', '#', '?' or control
    /// characters, and they are kept short and readable ("partner-RC9").
    /// </summary>
    public static string For(string workflow, string key)
    {
        if (key.Length is 0 or > 200 || key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            throw new ArgumentException($"'{key}' cannot be a stream key.", nameof(key));
        }

        return $"{workflow}-{key}";
    }
}
