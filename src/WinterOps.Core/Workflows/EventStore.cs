namespace WinterOps.Core.Workflows;

/// <summary>
/// The storage of workflow streams. One stream is one partition: a head (state snapshot, version,
/// pending-outbox marker), its events, its outbox and the ids of the commands it applied. An append
/// writes all of them in one atomic transaction guarded by the head's ETag.
/// </summary>
public interface IEventStore
{
    Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken);

    /// <summary>Appends atomically; throws <see cref="StreamConflictException"/> or <see cref="DuplicateCommandException"/>.</summary>
    Task<string> AppendAsync(Append append, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, CancellationToken cancellationToken);

    /// <summary>Whether the stream already applied the command with this id.</summary>
    Task<bool> HasAppliedAsync(string streamId, string commandId, CancellationToken cancellationToken);

    /// <summary>Heads of every stream of a workflow whose key starts with <paramref name="keyPrefix"/> (registries, a day's returns), in key order.</summary>
    IAsyncEnumerable<StoredHead> ReadHeadsAsync(string workflow, string keyPrefix, CancellationToken cancellationToken);

    Task<IReadOnlyList<OutboxEntry>> ReadPendingOutboxAsync(string streamId, CancellationToken cancellationToken);

    Task MarkSentAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken);

    /// <summary>Clears the head's pending marker unless the head changed since <paramref name="headETag"/>.</summary>
    Task<bool> TryClearPendingAsync(string streamId, string headETag, CancellationToken cancellationToken);

    /// <summary>Streams whose outbox has waited since before <paramref name="before"/>.</summary>
    IAsyncEnumerable<string> FindPendingStreamsAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>A stream's head row.</summary>
public sealed record StoredHead(
    string StreamId, string Workflow, long Version, string StateType, string State, DateTimeOffset? PendingSince, DateTimeOffset UpdatedAt, string ETag);

/// <summary>One stored event, with who caused it (id, name, role, organisation) and when.</summary>
public sealed record StoredEvent(
    string StreamId, long Version, string Type, string Data, DateTimeOffset At, string ById, string ByName, string CommandId,
    string? ByRole = null, string? ByOrg = null);

/// <summary>
/// One outbox row. <see cref="Id"/> is deterministic (stream, version, index), so every redelivery
/// carries the same id. <see cref="Kind"/> is <c>notification</c> or <c>command</c>.
/// </summary>
public sealed record OutboxEntry(string Id, string Kind, string Payload, DateTimeOffset CreatedAt, bool Sent = false);

/// <summary>Everything one command writes, committed together or not at all.</summary>
public sealed record Append(
    string StreamId,
    string Workflow,
    long ExpectedVersion,
    string? ExpectedETag,
    string StateType,
    string State,
    IReadOnlyList<StoredEvent> Events,
    IReadOnlyList<OutboxEntry> Outbox,
    DateTimeOffset? PendingSince,
    DateTimeOffset At)
{
    public long NewVersion => ExpectedVersion + Events.Count;

    /// <summary>The command these events answer; recorded so a repeat of it is recognised.</summary>
    public string CommandId => Events[0].CommandId;

    /// <summary>An entity-group transaction holds at most 100 entities: head + command + events + outbox.</summary>
    public const int MaxEntities = 100;

    public int EntityCount => 2 + Events.Count + Outbox.Count;
}

/// <summary>Another writer changed the stream first (the head's ETag no longer matched).</summary>
public sealed class StreamConflictException(string streamId) : Exception($"Stream {streamId} was changed by another writer.");

/// <summary>The stream already applied a command with this id.</summary>
public sealed class DuplicateCommandException(string streamId, string commandId)
    : Exception($"Stream {streamId} already applied command {commandId}.");
