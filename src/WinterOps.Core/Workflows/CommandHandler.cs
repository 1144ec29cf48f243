using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace WinterOps.Core.Workflows;

/// <summary>
/// Told when a commit wrote outbox rows, so they are dispatched without waiting for the sweeper.
/// Implementations must not throw: the commit stands, and the sweeper delivers what a failed signal
/// could not announce.
/// </summary>
public interface IOutboxSignal
{
    Task OutboxWrittenAsync(string streamId, CancellationToken cancellationToken);
}

/// <summary>The outcome of one command: the stream's version and state after it, and what it added.</summary>
public sealed record CommandResult<TState>(string StreamId, long Version, TState State, IReadOnlyList<object> NewEvents, bool AlreadyApplied)
{
    /// <summary>The strong HTTP entity tag of this version of the resource.</summary>
    public string ETag => $"\"{Version}\"";
}

/// <summary>A command travelling through a queue: to another stream, or to a stream later (a durable timer).</summary>
public sealed record QueuedCommand(
    string Workflow, string Key, string CommandType, string Command, string CommandId, DateTimeOffset? DueAt, string CausedBy);

/// <summary>
/// The one command handler: load the head, decide, append events + head + outbox in one transaction,
/// and on a concurrent write reload and decide again, a bounded number of times.
/// </summary>
public sealed class CommandHandler(IEventStore store, WorkflowCatalog catalog, IOutboxSignal signal)
{
    public const int MaxAttempts = 12;

    /// <summary>Heads this process wrote last, so the next command to a stream need not read it first.</summary>
    public const int HeadCacheCapacity = 10_000;

    private readonly ConcurrentDictionary<string, (StoredHead Head, object State)> _heads = new(StringComparer.Ordinal);

    public async Task<CommandResult<TState>> HandleAsync<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow,
        string key,
        TCommand command,
        CommandContext context,
        long? expectedVersion = null,
        CancellationToken cancellationToken = default)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        var streamId = workflow.StreamId(key);
        for (var attempt = 1; ; attempt++)
        {
            // The first try may skip the read: a "create only" command (expected version 0) assumes an
            // empty stream, and a stream this process wrote last (with nothing pending) is known. The
            // head's ETag still guards the append; any doubt (a refusal, no change, a conflict) reads.
            TState state;
            StoredHead? head;
            var optimistic = attempt == 1;
            if (optimistic && expectedVersion == 0)
            {
                (state, head) = (workflow.Initial, null);
            }
            else if (optimistic && _heads.TryGetValue(streamId, out var known) && known.State is TState knownState)
            {
                (state, head) = (knownState, known.Head);
            }
            else
            {
                optimistic = false;
                (state, head) = await LoadAsync(workflow, streamId, cancellationToken);
            }

            var version = head?.Version ?? 0;
            Exception? refusal = null;
            List<TEvent> events = [];
            try
            {
                if (expectedVersion is { } expected && expected != version)
                {
                    throw new VersionMismatchException(streamId, expected, version);
                }

                events = workflow.Decide(command, state).ToList();
            }
            catch (Exception e) when (e is VersionMismatchException or CommandRejectedException)
            {
                refusal = e is CommandRejectedException { State: null } rejected
                    ? new CommandRejectedException(rejected.Message) { State = workflow.States.NameOf(state) }
                    : e;
            }

            if (optimistic && (refusal is not null || events.Count == 0))
            {
                _heads.TryRemove(streamId, out _);
                continue; // judged against an assumed state: read the stream and judge again
            }

            if (refusal is not null)
            {
                // A retry of a command that already succeeded: the stream has moved on since, so the
                // version check or the decider refuses it; the caller gets the success again instead.
                if (head is not null && await store.HasAppliedAsync(streamId, context.CommandId, cancellationToken))
                {
                    return new(streamId, version, state, [], AlreadyApplied: true);
                }

                throw refusal;
            }

            if (events.Count == 0)
            {
                return new(streamId, version, state, [], AlreadyApplied: false);
            }

            var (append, newState) = Prepare(workflow, streamId, head, state, events, context);
            string etag;
            try
            {
                // Not cancellable: a caller who gives up must not leave the outcome of a sent commit unknown to us.
                etag = await store.AppendAsync(append, CancellationToken.None);
            }
            catch (StreamConflictException) when (optimistic)
            {
                _heads.TryRemove(streamId, out _);
                continue;
            }
            catch (StreamConflictException) when (attempt < MaxAttempts)
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }
            catch (StreamConflictException)
            {
                throw new ConcurrencyException(streamId, attempt);
            }
            catch (DuplicateCommandException)
            {
                var (current, currentHead) = await LoadAsync(workflow, streamId, cancellationToken);
                return new(streamId, currentHead?.Version ?? 0, current, [], AlreadyApplied: true);
            }

            Remember(streamId, append, etag, newState);
            if (append.Outbox.Count > 0)
            {
                await signal.OutboxWrittenAsync(streamId, cancellationToken);
            }

            return new(streamId, append.NewVersion, newState, events, AlreadyApplied: false);
        }
    }

    /// <summary>The state of a stream as of its head (replayed from events when the snapshot's type is unknown).</summary>
    public async Task<(TState State, StoredHead? Head)> LoadAsync<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow, string streamId, CancellationToken cancellationToken)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        var head = await store.ReadHeadAsync(streamId, cancellationToken);
        return head is null ? (workflow.Initial, null) : (await StateOfAsync(workflow, head, cancellationToken), head);
    }

    /// <summary>Every stream of a workflow with its state (lists and registries; a scan of the heads).</summary>
    public IAsyncEnumerable<(TState State, StoredHead Head)> LoadAllAsync<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow, CancellationToken cancellationToken)
        where TState : class
        where TCommand : class
        where TEvent : class =>
        LoadAllAsync(workflow, "", cancellationToken);

    /// <summary>The streams of a workflow whose key starts with <paramref name="keyPrefix"/>, with their states (one range query).</summary>
    public async IAsyncEnumerable<(TState State, StoredHead Head)> LoadAllAsync<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow, string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        await foreach (var head in store.ReadHeadsAsync(workflow.Name, keyPrefix, cancellationToken))
        {
            yield return (await StateOfAsync(workflow, head, cancellationToken), head);
        }
    }

    private async Task<TState> StateOfAsync<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow, StoredHead head, CancellationToken cancellationToken)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        if (workflow.States.Knows(head.StateType))
        {
            return workflow.States.Deserialize(head.StateType, head.State);
        }

        // A snapshot written by a different version of the code: the events are the truth.
        var events = await store.ReadEventsAsync(head.StreamId, cancellationToken);
        return workflow.Fold(events.Select(e => workflow.Events.Deserialize(e.Type, e.Data)));
    }

    private (Append Append, TState State) Prepare<TState, TCommand, TEvent>(
        WorkflowDefinition<TState, TCommand, TEvent> workflow,
        string streamId,
        StoredHead? head,
        TState state,
        List<TEvent> events,
        CommandContext context)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        var version = head?.Version ?? 0;
        var stored = new List<StoredEvent>(events.Count);
        var outbox = new List<OutboxEntry>();
        foreach (var @event in events)
        {
            version++;
            state = workflow.Evolve(state, @event);
            stored.Add(new StoredEvent(
                streamId, version, workflow.Events.NameOf(@event), workflow.Events.Serialize(@event),
                context.At, context.By.Id, context.By.Name, context.CommandId, context.By.Role, context.By.Org));

            var index = 0;
            foreach (var reaction in workflow.React(streamId, state, @event))
            {
                var id = $"{streamId}.{version:D10}.{index++}";
                outbox.Add(reaction switch
                {
                    Reaction.Notify notify => new OutboxEntry(
                        id, OutboxKinds.Notification, JsonSerializer.Serialize(notify.Notification, WorkflowJson.Options), context.At),
                    Reaction.Send send => new OutboxEntry(id, OutboxKinds.Command, Queue(send, id, streamId), context.At),
                    _ => throw new InvalidOperationException($"Unknown reaction {reaction.GetType().Name}."),
                });
            }
        }

        var append = new Append(
            streamId, workflow.Name, head?.Version ?? 0, head?.ETag,
            workflow.States.NameOf(state), workflow.States.Serialize(state),
            stored, outbox,
            PendingSince: outbox.Count > 0 ? head?.PendingSince ?? context.At : head?.PendingSince,
            context.At);
        if (append.EntityCount > Append.MaxEntities)
        {
            throw new InvalidOperationException(
                $"A {workflow.Name} command produced {append.EntityCount} rows; one transaction holds {Append.MaxEntities}.");
        }

        return (append, state);
    }

    /// <summary>
    /// Keeps the head this process just wrote, unless an outbox is pending (the dispatcher will change
    /// the head when it clears the marker, so the next command would only hit a conflict).
    /// </summary>
    private void Remember(string streamId, Append append, string etag, object state)
    {
        if (append.PendingSince is not null || etag.Length == 0)
        {
            _heads.TryRemove(streamId, out _);
            return;
        }

        if (_heads.Count >= HeadCacheCapacity)
        {
            _heads.Clear();
        }

        _heads[streamId] = (new StoredHead(streamId, append.Workflow, append.NewVersion, append.StateType, append.State, null, append.At, etag), state);
    }

    private string Queue(Reaction.Send send, string outboxId, string causedBy)
    {
        var (type, json) = catalog.Get(send.Workflow).SerializeCommand(send.Command);
        var queued = new QueuedCommand(send.Workflow, send.Key, type, json, outboxId, send.DueAt, causedBy);
        return JsonSerializer.Serialize(queued, WorkflowJson.Options);
    }

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + Math.Min(100, 4 << Math.Min(attempt, 5))));
}

public static class OutboxKinds
{
    public const string Notification = "notification";
    public const string Command = "command";
}
