using System.Collections.Concurrent;
using System.Diagnostics;

namespace WinterOps.Bench;

/// <summary>What one operation came to.</summary>
internal enum Outcome
{
    /// <summary>Done as expected: counted, with its latency.</summary>
    Ok,

    /// <summary>Done, but not as expected (an error status, a wrong answer): counted apart, no latency.</summary>
    Failed,

    /// <summary>Nothing left to do (e.g. no placement left to accept): the worker stops; not counted.</summary>
    NoWork,
}

/// <summary>
/// One measured case: <c>concurrency</c> workers each running <c>op</c> one at a time. A case is
/// measured in several rounds (interleaved with the other cases, so background load hits them all
/// alike); the totals of its rounds make its <see cref="Result"/>. <c>storageOnPath</c> says whether an operation's
/// storage requests are made one after another on its own path (the engine, the raw transaction), so that the
/// operation's time less its storage time means something; with Durable, requests overlap (the engine's dispatchers poll
/// and work alongside the caller), so it does not.
/// </summary>
internal sealed class Case(
    string name, string group, int concurrency, Func<int, long, Task<Outcome>> op, EngineMeters? meters, Func<TimeSpan?> azuriteCpu,
    StorageMeter storage, StorageKinds? kinds = null, bool storageOnPath = true)
{
    // Each worker numbers its own operations; the numbers go on across warm-up and rounds.
    private readonly long[] _next = new long[concurrency];
    private readonly List<double> _latencies = [];
    private readonly ConcurrentQueue<string> _failures = new();
    private double _seconds;
    private long _allocated;
    private long _failed;
    private long _starved;
    private TimeSpan _cpu;
    private TimeSpan? _azuriteCpu = TimeSpan.Zero;
    private StorageCount _storage;
    private readonly long[] _kindCounts = new long[Enum.GetValues<RequestKind>().Length];
    private readonly double[] _kindMs = new double[Enum.GetValues<RequestKind>().Length];

    public string Name => name;

    /// <summary>Notes on failed operations (the first few are kept).</summary>
    public void NoteFailure(string failure)
    {
        if (_failures.Count < 5)
        {
            _failures.Enqueue(failure);
        }
    }

    public async Task WarmUpAsync(TimeSpan length)
    {
        await RunAsync(length);
        meters?.Reset();
        _failed = 0;
        _starved = 0;
    }

    public async Task MeasureAsync(TimeSpan length)
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var cpu = Environment.CpuUsage.TotalTime;
        var azurite = azuriteCpu();
        var requests = storage.Read();
        var byKind = kinds?.Read();
        var clock = Stopwatch.StartNew();
        _latencies.AddRange(await RunAsync(length));
        _seconds += clock.Elapsed.TotalSeconds;
        _allocated += GC.GetTotalAllocatedBytes() - allocated;
        _cpu += Environment.CpuUsage.TotalTime - cpu;
        _azuriteCpu += azuriteCpu() - azurite;
        _storage += storage.Read() - requests;
        if (kinds is not null && byKind is var (counts, ms))
        {
            var (countsNow, msNow) = kinds.Read();
            for (var i = 0; i < _kindCounts.Length; i++)
            {
                _kindCounts[i] += countsNow[i] - counts[i];
                _kindMs[i] += msNow[i] - ms[i];
            }
        }
    }

    public Result Result(int? queued)
    {
        var latencies = _latencies.Order().ToArray();
        var ops = latencies.Length;
        var done = Math.Max(1, ops + _failed);
        return new Result(
            name, group, concurrency, ops, _failed, _starved, _seconds, latencies,
            _allocated / (double)done,
            _cpu.TotalSeconds / _seconds,
            _azuriteCpu?.TotalSeconds / _seconds,
            meters is null ? null : new Split(meters.Read.TotalMs / done, meters.Append.TotalMs / done, meters.Signal.TotalMs / done),
            _storage,
            kinds is null ? null : new ByKind([.. _kindCounts], [.. _kindMs]),
            _next.Sum(),
            queued,
            [.. _failures],
            storageOnPath);
    }

    private async Task<List<double>> RunAsync(TimeSpan length)
    {
        var stop = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var perWorker = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var latencies = new List<double>();
            while (Stopwatch.GetTimestamp() < stop)
            {
                var start = Stopwatch.GetTimestamp();
                var outcome = await op(worker, _next[worker]++);
                if (outcome == Outcome.Ok)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                else if (outcome == Outcome.Failed)
                {
                    Interlocked.Increment(ref _failed);
                }
                else
                {
                    Interlocked.Increment(ref _starved);
                    break;
                }
            }

            return latencies;
        }));
        return perWorker.SelectMany(l => l).ToList();
    }
}
