using System.Collections.Concurrent;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

/// <summary>Records which streams were announced as having new outbox rows.</summary>
public sealed class RecordingOutboxSignal : IOutboxSignal
{
    private readonly ConcurrentQueue<string> _streams = new();

    public IReadOnlyList<string> Streams => [.. _streams];

    public Task OutboxWrittenAsync(string streamId, CancellationToken cancellationToken)
    {
        _streams.Enqueue(streamId);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A real <see cref="InMemoryEventStore"/> with a hook that runs before each append reaches it: to
/// let another writer win a race deterministically, or to see exactly what one append carries.
/// </summary>
public sealed class InterceptingEventStore(InMemoryEventStore inner) : IEventStore
{
    private readonly ConcurrentQueue<Append> _appends = new();
    private int _calls;

    /// <summary>Runs before the append with the append and its 1-based call number.</summary>
    public Func<Append, int, Task>? BeforeAppend { get; set; }

    /// <summary>Every append the handler attempted, including ones that failed.</summary>
    public IReadOnlyList<Append> Appends => [.. _appends];

    public InMemoryEventStore Inner => inner;

    public async Task<string> AppendAsync(Append append, CancellationToken cancellationToken)
    {
        _appends.Enqueue(append);
        var call = Interlocked.Increment(ref _calls);
        if (BeforeAppend is { } before)
        {
            await before(append, call);
        }

        return await inner.AppendAsync(append, cancellationToken);
    }

    public Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken) =>
        inner.ReadHeadAsync(streamId, cancellationToken);

    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, CancellationToken cancellationToken) =>
        inner.ReadEventsAsync(streamId, cancellationToken);

    public Task<bool> HasAppliedAsync(string streamId, string commandId, CancellationToken cancellationToken) =>
        inner.HasAppliedAsync(streamId, commandId, cancellationToken);

    public IAsyncEnumerable<StoredHead> ReadHeadsAsync(string workflow, string keyPrefix, CancellationToken cancellationToken) =>
        inner.ReadHeadsAsync(workflow, keyPrefix, cancellationToken);

    public Task<IReadOnlyList<OutboxEntry>> ReadPendingOutboxAsync(string streamId, CancellationToken cancellationToken) =>
        inner.ReadPendingOutboxAsync(streamId, cancellationToken);

    public Task MarkSentAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken) =>
        inner.MarkSentAsync(streamId, entry, cancellationToken);

    public Task<bool> TryClearPendingAsync(string streamId, string headETag, CancellationToken cancellationToken) =>
        inner.TryClearPendingAsync(streamId, headETag, cancellationToken);

    public IAsyncEnumerable<string> FindPendingStreamsAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        inner.FindPendingStreamsAsync(before, cancellationToken);
}
