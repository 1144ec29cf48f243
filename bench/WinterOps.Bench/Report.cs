using System.Globalization;
using System.Text;

namespace WinterOps.Bench;

/// <summary>Storage requests by <see cref="RequestKind"/>: how many, and their total ms.</summary>
internal sealed record ByKind(long[] Counts, double[] Ms);

/// <summary>
/// One measured case. <see cref="Ops"/> and <see cref="Failed"/> are in units (one per operation, or the N events of
/// an events operation). Latencies (of the operations that went as expected; none for many-unit operations) are sorted;
/// CPU is in cores (1.0 = one core busy all the time). <see cref="Starved"/> counts workers that stopped early for want
/// of work. Per-unit figures divide by all units, failed ones included.
/// </summary>
internal sealed record Result(
    string Name,
    int Concurrency,
    long Ops,
    long Failed,
    long Starved,
    double Seconds,
    double[] LatenciesMs,
    long AllocatedBytes,
    double BenchCores,
    double? AzuriteCores,
    StorageCount Storage,
    ByKind? ByKind,
    IReadOnlyList<string> Failures)
{
    public double OpsPerSecond => Ops / Seconds;

    public double Percentile(double p) => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Max(0, (int)Math.Ceiling(p * LatenciesMs.Length) - 1)];

    public double PerOp(double total) => total / Math.Max(1, Ops + Failed);
}

internal static class Report
{
    /// <summary>The baselines, by the name their case starts with, and the label of their ratio column.</summary>
    private static readonly (string Prefix, string Label)[] Baselines = [("raw: 2-entity", "vs tx"), ("raw: orchestration", "vs orch")];

    public static void Print(IReadOnlyList<Result> results, long benchPeakBytes, long? azuritePeakBytes)
    {
        string Ratio(Result r, string prefix) =>
            results.FirstOrDefault(b => b.Name.StartsWith(prefix, StringComparison.Ordinal) && b.Concurrency == r.Concurrency) is { } b
                ? F(r.OpsPerSecond / b.OpsPerSecond, 2) : "";

        Console.WriteLine();
        Console.WriteLine("Rates (ops/s; for the events row, events/s), against the raw baselines measured in the same rounds at the same concurrency:");
        Table(
            ["case", "conc", "ops", "failed", "ops/s", .. Baselines.Select(b => b.Label), "p50 ms", "p99 ms", "mean ms"],
            results.Select(r => new[] { r.Name, N(r.Concurrency), N(r.Ops), N(r.Failed), F(r.OpsPerSecond, 0) }
                .Concat(Baselines.Select(b => Ratio(r, b.Prefix)))
                .Concat([F(r.Percentile(0.50), 1), F(r.Percentile(0.99), 1), F(r.LatenciesMs.Length == 0 ? double.NaN : r.LatenciesMs.Average(), 1)])
                .ToArray()));

        Console.WriteLine();
        Console.WriteLine($"Per operation (per event for the events row): storage requests, the time spent waiting for them, allocations; CPU in cores (of {Environment.ProcessorCount}):");
        Table(
            ["case", "conc", "table req", "queue req", "storage ms", "alloc KB/op", "bench CPU", "Azurite CPU"],
            results.Select(r => new[]
            {
                r.Name, N(r.Concurrency), F(r.PerOp(r.Storage.Table), 1), F(r.PerOp(r.Storage.Queue), 1), F(r.PerOp(r.Storage.Ms), 1),
                F(r.PerOp(r.AllocatedBytes) / 1024, 1), F(r.BenchCores, 2), F(r.AzuriteCores, 2),
            }));

        var kinds = Enum.GetValues<RequestKind>();
        Console.WriteLine();
        Console.WriteLine("Storage requests by kind, per operation x mean ms per request:");
        Table(
            ["case", "conc", .. kinds.Select(k => k switch
            {
                RequestKind.Query => "query",
                RequestKind.PointRead => "point read",
                RequestKind.Transaction => "transaction",
                RequestKind.TableWrite => "table write",
                RequestKind.QueuePut => "queue put",
                RequestKind.QueueReceive => "queue get",
                RequestKind.QueueDelete => "queue delete",
                _ => "other",
            })],
            results.Where(r => r.ByKind is not null).Select(r => new[] { r.Name, N(r.Concurrency) }.Concat(kinds.Select(k =>
            {
                var count = r.ByKind!.Counts[(int)k];
                return count == 0 ? "-" : $"{F(r.PerOp(count), 2)} x {F(r.ByKind.Ms[(int)k] / count, 2)}";
            })).ToArray()));

        foreach (var r in results.Where(r => r.Failed > 0 || r.Starved > 0))
        {
            Console.WriteLine();
            Console.WriteLine($"{r.Name} (concurrency {r.Concurrency}): {r.Failed} failed; {r.Starved} worker stop(s) for want of work.");
            foreach (var failure in r.Failures)
            {
                Console.WriteLine($"  {failure}");
            }
        }

        var gc = GC.GetGCMemoryInfo();
        Console.WriteLine();
        Console.WriteLine($"Peak working set: bench {benchPeakBytes / 1048576.0:0} MB, Azurite {azuritePeakBytes / 1048576.0:0} MB (all data in memory).");
        Console.WriteLine(
            $"GC at the end: heap {gc.HeapSizeBytes / 1048576.0:0} MB, total allocated {GC.GetTotalAllocatedBytes() / 1048576.0:0} MB, " +
            $"collections gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}.");
    }

    public static void Table(string[] header, IEnumerable<string[]> rows)
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

    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string F(double? value, int decimals) =>
        value is { } v && double.IsFinite(v) ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "";
}
