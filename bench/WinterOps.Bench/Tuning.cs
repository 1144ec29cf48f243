using System.Globalization;
using WinterOps.LocalHost.Durable;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// <c>--tuning</c>: the raw orchestration (start -> one activity -> complete) and external events into one instance,
/// under variations of host.json's Durable settings, one at a time from host.json as it is, each on a fresh task hub
/// (a fresh raw Durable host per variation and client concurrency), one after another on one Azurite. The sweep runs
/// <c>passes</c> times, every other pass in reverse order, after a first host per client concurrency that is not counted
/// (JIT, Azurite's first tables); then a lone orchestration after a quiet spell, under host.json and with 100 ms polling
/// (<see cref="AfterIdleAsync"/>). Printed as Markdown tables, with the load average at the end of each row.
/// </summary>
internal static class Tuning
{
    private static readonly (string Name, Func<DurableSettings, DurableSettings> Tune)[] Variants =
    [
        ("host.json", s => s),
        ("partitionCount 1", s => s with { PartitionCount = 1 }),
        ("maxQueuePollingInterval 100 ms", s => s with { MaxQueuePollingInterval = TimeSpan.FromMilliseconds(100) }),
        ("controlQueueBatchSize 8", s => s with { ControlQueueBatchSize = 8 }),
        ("concurrency 2", s => s with { MaxConcurrentActivityFunctions = 2, MaxConcurrentOrchestratorFunctions = 2 }),
        ("concurrency 10", s => s with { MaxConcurrentActivityFunctions = 10, MaxConcurrentOrchestratorFunctions = 10 }),
    ];

    private static readonly string[] Header =
    [
        "variation", "partitions / max polling / control batch / activities, orchestrators", "clients", "pass", "orch/s", "p50 / p99 ms", "failed",
        "engine p50 ms", "events/s", "engine events/s", "episodes / 200 events", "table + queue req/orch", "Azurite CPU", "load (1 min)",
    ];

    public static async Task RunAsync(TimeSpan measure, TimeSpan warmup, int events, int passes)
    {
        Console.WriteLine(
            $"Tuning: per variation and client concurrency a fresh task hub, {warmup.TotalSeconds:0} s warm-up then {measure.TotalSeconds:0} s of raw " +
            $"orchestrations, then {measure.TotalSeconds:0} s of instances taking {events} events each; {passes} passes; {Environment.ProcessorCount} cores; {Machine.LoadAverage()}.");
        await using var azurite = await AzuriteServer.StartAsync();
        using var node = Machine.AzuriteProcess(azurite.TablePort);
        using var storage = new StorageMeter(azurite.TablePort, azurite.QueuePort);
        foreach (var concurrency in new[] { 1, 16 })
        {
            await RowAsync(azurite, node, storage, "(not counted)", s => s, concurrency, 0, measure, warmup, events);
        }

        var rows = new List<string[]>();
        for (var pass = 1; pass <= passes; pass++)
        {
            foreach (var (name, tune) in pass % 2 == 1 ? Variants : Variants.Reverse())
            {
                foreach (var concurrency in new[] { 1, 16 })
                {
                    rows.Add(await RowAsync(azurite, node, storage, name, tune, concurrency, pass, measure, warmup, events));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"| {string.Join(" | ", Header).Replace("200", Report.N(events), StringComparison.Ordinal)} |");
        Console.WriteLine($"|{string.Concat(Header.Select(_ => "---|"))}");
        foreach (var row in rows.OrderBy(r => Array.FindIndex(Variants, v => v.Name == r[0])).ThenBy(r => int.Parse(r[2], CultureInfo.InvariantCulture)).ThenBy(r => r[3]))
        {
            Console.WriteLine($"| {string.Join(" | ", row)} |");
        }

        await AfterIdleAsync(azurite, storage);
        Console.WriteLine($"At the end: {Machine.LoadAverage()}.");
    }

    /// <summary>
    /// What a lone request meets: the storage provider backs each queue's polling off to a tenth of the time since it last
    /// found a message, at most maxQueuePollingInterval, so under load (as above) the setting hardly acts; after a quiet
    /// spell it does. For host.json and the 100 ms variation, a fresh host, then three times: 12 s idle (storage requests
    /// counted meanwhile), one orchestration.
    /// </summary>
    private static async Task AfterIdleAsync(AzuriteServer azurite, StorageMeter storage)
    {
        const int Samples = 3;
        var idle = TimeSpan.FromSeconds(12);
        Console.WriteLine();
        Console.WriteLine($"A lone orchestration after {idle.TotalSeconds:0} s idle ({Samples} each; client latency includes its polling, 10 ms x1.5 up to 200 ms):");
        Console.WriteLine("| variation | client ms (each) | engine p50 ms | idle table + queue req/s | load (1 min) |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, tune) in new[] { Variants[0], Variants[2] })
        {
            await using var raw = await RawOrchestration.StartAsync(azurite, tune);
            var latencies = new List<double>();
            var idleRequests = default(StorageCount);
            for (var i = 0; i < Samples; i++)
            {
                var before = storage.Read();
                await Task.Delay(idle);
                idleRequests += storage.Read() - before;
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                await raw.RunOnceAsync(i);
                latencies.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            var seconds = Samples * idle.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {string.Join(", ", latencies.Select(l => l.ToString("0", CultureInfo.InvariantCulture)))} | {raw.EngineTime().P50Ms:0} | " +
                $"{idleRequests.Table / seconds:0.0} + {idleRequests.Queue / seconds:0.0} | {Machine.Load1()} |"));
        }
    }

    private static async Task<string[]> RowAsync(
        AzuriteServer azurite, System.Diagnostics.Process? node, StorageMeter storage, string name, Func<DurableSettings, DurableSettings> tune, int concurrency,
        int pass, TimeSpan measure, TimeSpan warmup, int events)
    {
        await using var raw = await RawOrchestration.StartAsync(azurite, tune);
        Case orchestration = null!, raised = null!;
        orchestration = new Case("orchestration", concurrency, (_, i) => raw.RunOnceAsync(i, orchestration.NoteFailure), Machine.CpuOf(node), storage);
        raised = new Case("events", concurrency, (_, _) => raw.RaiseEventsAsync(events, concurrency, raised.NoteFailure), Machine.CpuOf(node), storage,
            workers: 1, units: events);
        await orchestration.WarmUpAsync(warmup);
        await orchestration.MeasureAsync(measure);
        await raised.MeasureAsync(measure);
        var (o, e, s) = (orchestration.Result(), raised.Result(), raw.Settings);
        var row = new[]
        {
            name, string.Create(CultureInfo.InvariantCulture,
                $"{s.PartitionCount} / {s.MaxQueuePollingInterval.TotalMilliseconds:0} ms / {s.ControlQueueBatchSize} / {s.MaxConcurrentActivityFunctions}, {s.MaxConcurrentOrchestratorFunctions}"),
            Report.N(concurrency), Report.N(pass), Report.F(o.OpsPerSecond, 1), $"{Report.F(o.Percentile(0.5), 0)} / {Report.F(o.Percentile(0.99), 0)}", Report.N(o.Failed),
            Report.F(raw.EngineTime().P50Ms, 0), Report.F(e.OpsPerSecond, 0), Report.F(raw.EngineEventRate(), 0), $"{await raw.EpisodesOfLastEventsAsync()}",
            $"{Report.F(o.PerOp(o.Storage.Table), 1)} + {Report.F(o.PerOp(o.Storage.Queue), 1)}", Report.F(o.AzuriteCores, 2), Machine.Load1(),
        };
        Console.WriteLine("  " + string.Join(" | ", row));
        foreach (var failure in o.Failures.Concat(e.Failures).Take(3))
        {
            Console.WriteLine($"    {failure}");
        }

        return row;
    }
}
