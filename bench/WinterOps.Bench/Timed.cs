using System.Diagnostics;

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
