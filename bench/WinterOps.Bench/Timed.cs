using System.Diagnostics;
using WinterOps.Core.Workflows;

namespace WinterOps.Bench;

/// <summary>Total time spent in one kind of call, across all workers.</summary>
internal sealed class Meter
{
    private long _ticks;

    public double TotalMs => Interlocked.Read(ref _ticks) * 1000.0 / Stopwatch.Frequency;

    public void Add(long startTimestamp) => Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - startTimestamp);

    public void Reset() => Interlocked.Exchange(ref _ticks, 0);
}

/// <summary>Where a command's time goes: the head read, the append transaction, the dispatch signal.</summary>
internal sealed class EngineMeters
{
    public Meter Read { get; } = new();

    public Meter Append { get; } = new();

    public Meter Signal { get; } = new();

    public void Reset()
    {
        Read.Reset();
        Append.Reset();
        Signal.Reset();
    }
}

/// <summary>The real store, with the two calls a command makes timed.</summary>
internal sealed class TimedStore(IEventStore inner, EngineMeters meters) : IEventStore
{
    public async Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ReadHeadAsync(streamId, cancellationToken);
        }
        finally
        {
            meters.Read.Add(start);
        }
    }

    public async Task<string> AppendAsync(Append append, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.AppendAsync(append, cancellationToken);
        }
        finally
        {
            meters.Append.Add(start);
        }
    }

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

/// <summary>The real outbox signal (a dispatch-queue message), timed.</summary>
internal sealed class TimedSignal(IOutboxSignal inner, EngineMeters meters) : IOutboxSignal
{
    public async Task OutboxWrittenAsync(string streamId, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await inner.OutboxWrittenAsync(streamId, cancellationToken);
        meters.Signal.Add(start);
    }
}
