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
/// One measured case: <c>workers</c> (by default <c>concurrency</c>) workers each running <c>op</c> one at a time. A case
/// is measured in several rounds (interleaved with the other cases, so background load hits them all alike); the totals
/// of its rounds make its <see cref="Result"/>. An operation counts as <c>units</c> (e.g. the N events one operation
/// raises into one instance): rates and per-operation figures are per unit.
/// </summary>
internal sealed class Case(
    string name, int concurrency, Func<int, long, Task<Outcome>> op, Func<TimeSpan?> azuriteCpu, StorageMeter storage, StorageKinds? kinds = null,
    int? workers = null, int units = 1)
{
    // Each worker numbers its own operations; the numbers go on across warm-up and rounds.
    private readonly long[] _next = new long[workers ?? concurrency];
    private readonly List<double> _latencies = [];
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly long[] _kindCounts = new long[Enum.GetValues<RequestKind>().Length];
    private readonly double[] _kindMs = new double[Enum.GetValues<RequestKind>().Length];
    private double _seconds;
    private long _allocated;
    private long _failed;
    private long _starved;
    private TimeSpan _cpu;
    private TimeSpan? _azuriteCpu = TimeSpan.Zero;
    private StorageCount _storage;

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

    public Result Result() => new(
        name, concurrency, _latencies.Count * (long)units, _failed * units, _starved, _seconds,
        units == 1 ? [.. _latencies.Order()] : [], // an operation of many units has no per-unit latency
        _allocated, _cpu.TotalSeconds / _seconds, _azuriteCpu?.TotalSeconds / _seconds, _storage,
        kinds is null ? null : new ByKind([.. _kindCounts], [.. _kindMs]), [.. _failures]);

    private async Task<List<double>> RunAsync(TimeSpan length)
    {
        var stop = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var perWorker = await Task.WhenAll(Enumerable.Range(0, _next.Length).Select(async worker =>
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
