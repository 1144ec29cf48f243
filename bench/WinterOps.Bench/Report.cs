using System.Globalization;
using System.Text;

namespace WinterOps.Bench;

/// <summary>Mean milliseconds per command in the head read, the append transaction and the dispatch signal.</summary>
internal sealed record Split(double ReadMs, double AppendMs, double SignalMs);

/// <summary>Storage requests by <see cref="RequestKind"/>: how many, and their total ms.</summary>
internal sealed record ByKind(long[] Counts, double[] Ms);

/// <summary>
/// One measured case. Latencies (of the operations that went as expected) are sorted; CPU is in cores
/// (1.0 = one core busy all the time). <see cref="Commands"/> counts warm-up too, like
/// <see cref="Queued"/> (dispatch-queue messages at the end). <see cref="Starved"/> counts workers that
/// stopped early for want of work. Per-operation figures divide by all operations, failed ones included.
/// <see cref="StorageOnPath"/>: the operation's storage requests run one after another on its own path (see <see cref="Case"/>).
/// </summary>
internal sealed record Result(
    string Name,
    string Group,
    int Concurrency,
    long Ops,
    long Failed,
    long Starved,
    double Seconds,
    double[] LatenciesMs,
    double AllocatedBytesPerOp,
    double BenchCores,
    double? AzuriteCores,
    Split? Split,
    StorageCount Storage,
    ByKind? ByKind,
    long Commands,
    int? Queued,
    IReadOnlyList<string> Failures,
    bool StorageOnPath)
{
    public bool IsRaw => Name.StartsWith("raw", StringComparison.Ordinal);

    public double OpsPerSecond => Ops / Seconds;

    public double MeanMs => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs.Average();

    public double Percentile(double p) => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[Math.Max(0, (int)Math.Ceiling(p * LatenciesMs.Length) - 1)];

    private long Done => Math.Max(1, Ops + Failed);

    public double PerOp(double total) => total / Done;
}

internal static class Report
{
    public static void Print(IReadOnlyList<Result> results, IReadOnlyDictionary<string, string> groupTitles, long benchPeakBytes, long? azuritePeakBytes)
    {
        foreach (var group in results.Select(r => r.Group).Distinct())
        {
            var rows = results.Where(r => r.Group == group).ToList();

            // Each raw case of the group is a baseline: "vs tx" (the 2-entity transaction), "vs orch" (the raw orchestration).
            var baselines = rows.Where(r => r.IsRaw).Select(r => r.Name).Distinct()
                .Select(name => (Label: BaselineLabel(name), Rate: rows.Where(r => r.Name == name).ToDictionary(r => r.Concurrency, r => r.OpsPerSecond)))
                .ToList();

            Console.WriteLine();
            Console.WriteLine(groupTitles[group]);
            Table(
                ["case", "conc", "ops", "failed", "ops/s", .. baselines.Select(b => b.Label), "p50 ms", "p99 ms", "mean ms"],
                rows.Select(r => new[] { r.Name, N(r.Concurrency), N(r.Ops), N(r.Failed), F(r.OpsPerSecond, 0) }
                    .Concat(baselines.Select(b => F(b.Rate.TryGetValue(r.Concurrency, out var baseline) ? r.OpsPerSecond / baseline : null, 2)))
                    .Concat([F(r.Percentile(0.50), 2), F(r.Percentile(0.99), 2), F(r.MeanMs, 2)])
                    .ToArray()));
        }

        Console.WriteLine();
        Console.WriteLine($"Where an operation's time goes (per operation; ms are means); CPU in cores (of {Environment.ProcessorCount}):");
        Table(
            ["case", "conc", "table req", "queue req", "storage ms", "head read", "append", "signal", "other ms", "alloc KB/op", "bench CPU", "Azurite CPU", "queued/commands"],
            results.Select(r => new[]
            {
                r.Name, N(r.Concurrency),
                F(r.PerOp(r.Storage.Table), 2), F(r.PerOp(r.Storage.Queue), 2), F(r.PerOp(r.Storage.Ms), 2),
                F(r.Split?.ReadMs, 2), F(r.Split?.AppendMs, 2), F(r.Split?.SignalMs, 2),
                F(r.Failed == 0 && r.StorageOnPath ? r.MeanMs - r.PerOp(r.Storage.Ms) : null, 2),
                F(r.AllocatedBytesPerOp / 1024, 1), F(r.BenchCores, 2), F(r.AzuriteCores, 2),
                r.Queued is null ? "" : $"{r.Queued}/{r.Commands}",
            }));

        var kinds = Enum.GetValues<RequestKind>();
        if (results.Any(r => r.ByKind is not null))
        {
            Console.WriteLine();
            Console.WriteLine("Storage requests by kind while the app ran: requests per operation x mean ms per request:");
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
        }

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

    private static string BaselineLabel(string rawName) => rawName.Contains("orchestration", StringComparison.Ordinal) ? "vs orch" : "vs tx";

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double? value, int decimals) =>
        value is { } v ? v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "";
}
