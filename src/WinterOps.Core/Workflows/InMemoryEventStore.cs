using System.Runtime.CompilerServices;

namespace WinterOps.Core.Workflows;

/// <summary>
/// The event store in memory, with the same atomicity and concurrency rules as the Table store:
/// for fast tests of workflows and the engine. Not for production (nothing survives a restart).
/// </summary>
public sealed class InMemoryEventStore : IEventStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private long _etag;

    private sealed class Stream
    {
        public required StoredHead Head { get; set; }

        public List<StoredEvent> Events { get; } = [];

        public List<OutboxEntry> Outbox { get; } = [];

        public HashSet<string> Commands { get; } = new(StringComparer.Ordinal);
    }

    public Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_streams.GetValueOrDefault(streamId)?.Head);
        }
    }

    public Task<string> AppendAsync(Append append, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _streams.TryGetValue(append.StreamId, out var stream);
            if ((stream?.Head.ETag) != append.ExpectedETag)
            {
                throw new StreamConflictException(append.StreamId);
            }

            if (stream is not null && stream.Commands.Contains(append.CommandId))
            {
                throw new DuplicateCommandException(append.StreamId, append.CommandId);
            }

            var etag = $"W/\"{++_etag}\"";
            var head = new StoredHead(
                append.StreamId, append.Workflow, append.NewVersion, append.StateType, append.State, append.PendingSince, append.At, etag);
            stream ??= new Stream { Head = head };
            stream.Head = head;
            stream.Events.AddRange(append.Events);
            stream.Outbox.AddRange(append.Outbox);
            stream.Commands.Add(append.CommandId);
            _streams[append.StreamId] = stream;
            return Task.FromResult(etag);
        }
    }

    public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<StoredEvent>>(_streams.GetValueOrDefault(streamId)?.Events.ToList() ?? []);
        }
    }

    public Task<bool> HasAppliedAsync(string streamId, string commandId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_streams.GetValueOrDefault(streamId)?.Commands.Contains(commandId) == true);
        }
    }

    public async IAsyncEnumerable<StoredHead> ReadHeadsAsync(string workflow, string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<StoredHead> heads;
        lock (_gate)
        {
            heads = _streams.Values.Select(s => s.Head)
                .Where(h => h.Workflow == workflow && h.StreamId.StartsWith($"{workflow}-{keyPrefix}", StringComparison.Ordinal))
                .OrderBy(h => h.StreamId, StringComparer.Ordinal).ToList();
        }

        foreach (var head in heads)
        {
            await Task.Yield();
            yield return head;
        }
    }

    public Task<IReadOnlyList<OutboxEntry>> ReadPendingOutboxAsync(string streamId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<OutboxEntry>>(
                _streams.GetValueOrDefault(streamId)?.Outbox.Where(o => !o.Sent).ToList() ?? []);
        }
    }

    public Task MarkSentAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var outbox = _streams[streamId].Outbox;
            var index = outbox.FindIndex(o => o.Id == entry.Id);
            outbox[index] = outbox[index] with { Sent = true };
            return Task.CompletedTask;
        }
    }

    public Task<bool> TryClearPendingAsync(string streamId, string headETag, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var stream = _streams[streamId];
            if (stream.Head.ETag != headETag)
            {
                return Task.FromResult(false);
            }

            stream.Head = stream.Head with { PendingSince = null, ETag = $"W/\"{++_etag}\"" };
            return Task.FromResult(true);
        }
    }

    public async IAsyncEnumerable<string> FindPendingStreamsAsync(DateTimeOffset before, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<string> ids;
        lock (_gate)
        {
            ids = _streams.Values.Where(s => s.Head.PendingSince < before).Select(s => s.Head.StreamId).ToList();
        }

        foreach (var id in ids)
        {
            await Task.Yield();
            yield return id;
        }
    }
}
