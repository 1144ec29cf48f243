using System.Globalization;
using System.Text;

namespace WinterOps.Bench;

/// <summary>Mean milliseconds per command in the head read, the append transaction and the dispatch signal.</summary>
internal sealed record Split(double ReadMs, double AppendMs, double SignalMs);

/// <summary>
/// One measured case. Latencies are sorted; CPU is in cores (1.0 = one core busy all the time).
/// <see cref="Commands"/> counts warm-up too, like <see cref="Queued"/> (dispatch-queue messages at the end).
/// </summary>
internal sealed record Result(
    string Name,
    int Concurrency,
    long Ops,
    double Seconds,
    double[] LatenciesMs,
    double AllocatedBytesPerOp,
    double BenchCores,
    double? AzuriteCores,
    Split? Split,
    long Commands,
    int? Queued)
{
    public double OpsPerSecond => Ops / Seconds;

    public double MeanMs => LatenciesMs.Average();

    public double Percentile(double p) => LatenciesMs[Math.Max(0, (int)Math.Ceiling(p * LatenciesMs.Length) - 1)];
}

internal static class Report
{
    public static void Print(IReadOnlyList<Result> results, long benchPeakBytes, long? azuritePeakBytes)
    {
        var raw = results.Where(r => r.Split is null).ToDictionary(r => r.Concurrency, r => r.OpsPerSecond);

        Console.WriteLine();
        Table(
            ["case", "conc", "ops", "ops/s", "engine/raw", "p50 ms", "p99 ms", "mean ms"],
            results.Select(r => new[]
            {
                r.Name, N(r.Concurrency), N(r.Ops), F(r.OpsPerSecond, 0),
                F(r.OpsPerSecond / raw[r.Concurrency], 2), F(r.Percentile(0.50), 2), F(r.Percentile(0.99), 2), F(r.MeanMs, 2),
            }));

        Console.WriteLine();
        Console.WriteLine($"Where a command's time goes (mean ms per command); CPU in cores (of {Environment.ProcessorCount}):");
        Table(
            ["case", "conc", "head read", "append", "signal", "rest", "alloc KB/op", "bench CPU", "Azurite CPU", "queued/commands"],
            results.Select(r => new[]
            {
                r.Name, N(r.Concurrency),
                F(r.Split?.ReadMs, 2), F(r.Split?.AppendMs, 2), F(r.Split?.SignalMs, 2),
                F(r.Split is { } s ? r.MeanMs - s.ReadMs - s.AppendMs - s.SignalMs : null, 2),
                F(r.AllocatedBytesPerOp / 1024, 1), F(r.BenchCores, 2), F(r.AzuriteCores, 2),
                r.Split is null ? "" : $"{r.Queued}/{r.Commands}",
            }));

        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine();
        Console.WriteLine($"Peak working set: bench {benchPeakBytes / 1048576.0:0} MB, Azurite {azuritePeakBytes / 1048576.0:0} MB (all data in memory).");
        Console.WriteLine(
            $"GC at the end: heap {gc.HeapSizeBytes / 1048576.0:0} MB, total allocated {GC.GetTotalAllocatedBytes() / 1048576.0:0} MB, " +
            $"collections gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}.");
    }

    private static void Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(row => row[i].Length)).ToArray();
        foreach (var row in all)
        {
            var line = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == 0 ? row[i].PadRight(widths[i]) : "  " + row[i].PadLeft(widths[i]));
            }

            Console.WriteLine(line.ToString().TrimEnd());
            if (row == header)
            {
                Console.WriteLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            }
        }
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double? value, int decimals) =>
        value is { } v ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "";
}
