using System.Diagnostics;

namespace WinterOps.Bench;

/// <summary>
/// One measured case: <c>concurrency</c> workers each running <c>op</c> one at a time. A case is
/// measured in several rounds (interleaved with the other cases, so background load hits them all
/// alike); the totals of its rounds make its <see cref="Result"/>.
/// </summary>
internal sealed class Case(string name, int concurrency, Func<int, long, Task> op, EngineMeters? meters, Func<TimeSpan?> azuriteCpu)
{
    // Each worker numbers its own operations; the numbers go on across warm-up and rounds.
    private readonly long[] _next = new long[concurrency];
    private readonly List<double> _latencies = [];
    private double _seconds;
    private long _allocated;
    private TimeSpan _cpu;
    private TimeSpan? _azuriteCpu = TimeSpan.Zero;

    public async Task WarmUpAsync(TimeSpan length)
    {
        await RunAsync(length);
        meters?.Reset();
    }

    public async Task MeasureAsync(TimeSpan length)
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var cpu = Environment.CpuUsage.TotalTime;
        var azurite = azuriteCpu();
        var clock = Stopwatch.StartNew();
        _latencies.AddRange(await RunAsync(length));
        _seconds += clock.Elapsed.TotalSeconds;
        _allocated += GC.GetTotalAllocatedBytes() - allocated;
        _cpu += Environment.CpuUsage.TotalTime - cpu;
        _azuriteCpu += azuriteCpu() - azurite;
    }

    public Result Result(int? queued)
    {
        var latencies = _latencies.Order().ToArray();
        var ops = latencies.Length;
        return new Result(
            name, concurrency, ops, _seconds, latencies,
            _allocated / (double)ops,
            _cpu.TotalSeconds / _seconds,
            _azuriteCpu?.TotalSeconds / _seconds,
            meters is null ? null : new Split(meters.Read.TotalMs / ops, meters.Append.TotalMs / ops, meters.Signal.TotalMs / ops),
            _next.Sum(),
            queued);
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
                await op(worker, _next[worker]++);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return latencies;
        }));
        return perWorker.SelectMany(l => l).ToList();
    }
}
