using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Bench;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

// Throughput of the workflow engine on a real (in-memory) Azurite, against the raw Table transaction it is
// built on; then of the placement HTTP API (the real app in this process) against the same raw transaction.
// Usage: dotnet run -c Release --project bench/WinterOps.Bench [--seconds 6] [--warmup 1] [--rounds 3] [--servicebus]
//        dotnet run -c Release --project bench/WinterOps.Bench -- --opel [50,500,5000]   (the daily OPEL round at scale)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --dispatch [2000,200]  (notifications through the dispatcher to a fake Service Bus)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --homes [30,300] [--history 0,50,150]  (placement requests as care-home history grows)
if (Array.IndexOf(args, "--opel") is var opel and >= 0)
{
    var sizes = opel + 1 < args.Length ? args[opel + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList() : [50, 500, 5000];
    Console.WriteLine($"OPEL round on Azurite; {Environment.ProcessorCount} cores; {LoadAverage()}.");
    await using var opelAzurite = await AzuriteServer.StartAsync();
    await OpelBench.RunAsync(opelAzurite, sizes);
    Console.WriteLine($"At the end: {LoadAverage()}.");
    return;
}

// Placement request latency as the care homes' history grows: --homes [30,300] [--history 0,50,150].
if (Array.IndexOf(args, "--homes") is var homesArg and >= 0)
{
    var sizes = homesArg + 1 < args.Length && !args[homesArg + 1].StartsWith("--", StringComparison.Ordinal)
        ? args[homesArg + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList()
        : [30, 300];
    var historyArg = Array.IndexOf(args, "--history");
    var histories = historyArg >= 0 ? args[historyArg + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList() : [0, 50, 150];
    Console.WriteLine($"Placement requests as the care homes' history grows, on Azurite; {Environment.ProcessorCount} cores; {LoadAverage()}.");
    await using var homesAzurite = await AzuriteServer.StartAsync();
    await HomesBench.RunAsync(homesAzurite, sizes, histories);
    Console.WriteLine($"At the end: {LoadAverage()}.");
    return;
}

var measure = TimeSpan.FromSeconds(Option("--seconds", 6));
var warmup = TimeSpan.FromSeconds(Option("--warmup", 1));
var rounds = Option("--rounds", 3);
int[] concurrencies = [1, 16];

// Intents through the whole dispatch path (queues on Azurite) to the fake Service Bus: --dispatch [singles,batches].
if (Array.IndexOf(args, "--dispatch") is var dispatch and >= 0)
{
    var counts = dispatch + 1 < args.Length && !args[dispatch + 1].StartsWith("--", StringComparison.Ordinal)
        ? args[dispatch + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
        : [2000, 200];
    Console.WriteLine($"Dispatch path on Azurite to a loopback fake Service Bus; {Environment.ProcessorCount} cores; {LoadAverage()}.");
    await using var dispatchAzurite = await AzuriteServer.StartAsync();
    await DispatchBench.RunAsync(dispatchAzurite, counts[0], counts[1], TimeSpan.FromSeconds(Option("--seconds", 6)));
    Console.WriteLine($"At the end: {LoadAverage()}.");
    return;
}

// The notification dispatch case runs on its own (no Azurite): --servicebus.
if (args.Contains("--servicebus"))
{
    await ServiceBusBench.RunAsync(measure, warmup, rounds);
    return;
}

Console.WriteLine(
    $"Starting Azurite; per case {warmup.TotalSeconds:0} s warm-up, then {measure.TotalSeconds:0} s measured in {rounds} interleaved rounds; " +
    $"{Environment.ProcessorCount} cores; {LoadAverage()}.");
await using var azurite = await AzuriteServer.StartAsync();
using var node = AzuriteProcess();
using var storageMeter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
var run = "b" + Guid.NewGuid().ToString("N")[..6];
var catalog = new WorkflowCatalog([BenchWorkflow.Plain, BenchWorkflow.Notifying]);
var actor = Actor.System("bench");
var results = new List<Result>();
var prefixes = 0;
const string Engine = "engine";
const string Api = "api";

// 1. The engine alone (the app is not running yet, so none of its instrumentation listens).
Console.WriteLine("Engine on Table storage:");
foreach (var concurrency in concurrencies)
{
    await MeasureAsync(concurrency,
    [
        await RawAsync(Engine, concurrency),
        await EngineAsync("engine, new stream per command", BenchWorkflow.Plain, perStream: 1, concurrency),
        await EngineAsync("engine, 10 commands per stream", BenchWorkflow.Plain, perStream: 10, concurrency),
        await EngineAsync("engine+notify, new stream per command", BenchWorkflow.Notifying, perStream: 1, concurrency),
        await EngineAsync("engine+notify, 10 commands per stream", BenchWorkflow.Notifying, perStream: 10, concurrency),
    ]);
}

// 2. The placement HTTP API: one fresh app (own storage prefix, own homes) per concurrency, and the raw
// baseline measured again while it runs (its OpenTelemetry listeners see the raw case's requests too).
Console.WriteLine(
    $"HTTP API: the WinterOps app in this process on a loopback port; app logging off; engine queues and timers off (no dispatcher, " +
    $"no queue polling: queue messages pile up unread); {ApiBench.Homes} care homes, each 900 nursing beds vacantAccepting.");
using var storageKinds = new StorageKinds(azurite.TablePort, azurite.QueuePort);
foreach (var concurrency in concurrencies)
{
    await using var api = await ApiBench.StartAsync(azurite, concurrency);
    Case placements = null!;
    Case acceptances = null!;
    placements = new Case("api: POST /api/placements", Api, concurrency,
        (worker, _) => api.RequestPlacementAsync(worker, f => placements.NoteFailure(f)), meters: null, NodeCpu, storageMeter, storageKinds);
    acceptances = new Case("api: POST .../offers/{home}/accept", Api, concurrency,
        (worker, _) => api.AcceptAsync(worker, f => acceptances.NoteFailure(f)), meters: null, NodeCpu, storageMeter, storageKinds);
    // A stock of placements to accept, so that acceptances never wait for placements (see the README).
    await placements.WarmUpAsync(warmup * 2);
    await MeasureAsync(concurrency, [await RawAsync(Api, concurrency, storageKinds), (placements, null), (acceptances, null)]);
    var (heads, chars, reservations) = await api.CareHomeHeadsAsync();
    Console.WriteLine(
        $"    after concurrency {concurrency}: {api.WaitingToBeAccepted} placements left unaccepted; {heads} care-home heads hold " +
        $"{reservations} reservations in {chars / 1024.0:0} KB of state JSON, all of which every placement request reads.");
}

using (var self = Process.GetCurrentProcess())
{
    node?.Refresh();
    Report.Print(
        results,
        new Dictionary<string, string>
        {
            [Engine] = "Engine on Table storage (vs raw: ops/s over the raw baseline's at the same concurrency):",
            [Api] =
                "HTTP API, app running (vs raw: over the raw baseline measured while the app ran, same concurrency). A placement request is\n" +
                "2 queries (all care-home heads, the offer board) + 1 create-only append + 1 dispatch signal; an acceptance is a placement\n" +
                "read + reserve on the home (head read, append, signal) + accept (head read, append, signal); the booking's reaction confirms the bed later:",
        },
        self.PeakWorkingSet64,
        node?.PeakWorkingSet64);
    Console.WriteLine($"At the end: {LoadAverage()}.");
}

return;

// Warm-up, then the interleaved rounds, then the results of one concurrency level's cases.
async Task MeasureAsync(int concurrency, (Case Case, QueueClient? Dispatch)[] cases)
{
    foreach (var (c, _) in cases)
    {
        await c.WarmUpAsync(warmup);
    }

    for (var round = 1; round <= rounds; round++)
    {
        Console.WriteLine($"  concurrency {concurrency}, round {round}/{rounds}");
        foreach (var (c, _) in cases)
        {
            await c.MeasureAsync(measure / rounds);
        }
    }

    foreach (var (c, dispatch) in cases)
    {
        // Sanity: every commit that wrote an outbox row put one message on the dispatch queue.
        int? queued = dispatch is null ? null : (await dispatch.GetPropertiesAsync()).Value.ApproximateMessagesCount;
        results.Add(c.Result(queued));
    }
}

// 1. The baseline: one entity-group transaction adding two small entities to a fresh partition.
async Task<(Case, QueueClient?)> RawAsync(string group, int concurrency, StorageKinds? kinds = null)
{
    var table = (await FreshStorageAsync()).Table(StorageNames.StreamsTable);
    return (new Case("raw: 2-entity transaction", group, concurrency, async (worker, i) =>
    {
        var partition = $"raw-w{worker}-{i}";
        await table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "a") { ["Version"] = i, ["Data"] = "{\"n\":1}" }),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "b") { ["Version"] = i }),
        ]);
        return Outcome.Ok;
    }, meters: null, NodeCpu, storageMeter, kinds), null);
}

// 2. The engine: CommandHandler over TableEventStore, signalling the real dispatch queue.
async Task<(Case, QueueClient?)> EngineAsync(string name, WorkflowDefinition<Counter, Tick, Ticked> workflow, int perStream, int concurrency)
{
    var storage = await FreshStorageAsync();
    var meters = new EngineMeters();
    var store = new TimedStore(new TableEventStore(storage.Table(StorageNames.StreamsTable)), meters);
    var signal = new TimedSignal(new WorkflowQueues(storage, TimeProvider.System, NullLogger<WorkflowQueues>.Instance), meters);
    var handler = new CommandHandler(store, catalog, signal);
    return (new Case(name, Engine, concurrency, async (worker, i) =>
    {
        var key = $"w{worker}-{i / perStream}";
        var context = new CommandContext($"{key}-{i}", actor, DateTimeOffset.UtcNow);
        // The first command of a stream is sent as a creation (expected version 0), as the API sends one.
        await handler.HandleAsync(workflow, key, new Tick(i), context, expectedVersion: i % perStream == 0 ? 0 : null);
        return Outcome.Ok;
    }, meters, NodeCpu, storageMeter), storage.Queue(StorageNames.DispatchQueue));
}

// A fresh prefix per case: every case starts on empty tables and queues.
async Task<StorageAccount> FreshStorageAsync()
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        [StorageAccount.ConnectionName] = azurite.ConnectionString,
        ["StorageNamePrefix"] = $"{run}c{++prefixes}",
    }).Build();
    var storage = new StorageAccount(configuration);
    await storage.Table(StorageNames.StreamsTable).CreateIfNotExistsAsync();
    foreach (var queue in StorageNames.Queues)
    {
        await storage.Queue(queue).CreateIfNotExistsAsync();
    }

    return storage;
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

TimeSpan? NodeCpu()
{
    node?.Refresh();
    return node?.TotalProcessorTime;
}

// Other work on the machine skews every number: the load averages (1, 5, 15 min) say how much there was (Linux only).
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "load average unknown";

// Azurite is our child `node` process (Linux only: found through /proc; elsewhere its columns stay empty).
static Process? AzuriteProcess()
{
    if (!OperatingSystem.IsLinux())
    {
        return null;
    }

    var me = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
            if (parent == me && int.TryParse(Path.GetFileName(dir), out var pid) && Process.GetProcessById(pid) is { ProcessName: "node" } process)
            {
                return process;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Not a process folder, or the process just exited.
        }
    }

    return null;
}
