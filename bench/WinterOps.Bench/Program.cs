using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Bench;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

// Throughput of the old hand-made workflow engine on a real (in-memory) Azurite, against the raw Table transaction it is
// built on; then of the placement HTTP API (the real app in this process, placements on Durable orchestrations) against
// the same raw transaction and a raw orchestration (start, one activity, complete) on the same local Durable engine.
// Usage: dotnet run -c Release --project bench/WinterOps.Bench [--seconds 6] [--warmup 1] [--rounds 3] [--servicebus]
//        dotnet run -c Release --project bench/WinterOps.Bench -- --opel [50,500,5000]   (the daily OPEL round on its orchestration at scale)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --dispatch [500,50]  (notifications through the notify and delivery activities to the fake AMQP broker)
if (Array.IndexOf(args, "--opel") is var opel and >= 0)
{
    var sizes = opel + 1 < args.Length ? args[opel + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList() : [50, 500, 5000];
    Console.WriteLine($"OPEL round (Durable orchestrations) on a fresh Azurite per size; {Environment.ProcessorCount} cores; {LoadAverage()}.");
    await OpelBench.RunAsync(sizes);
    Console.WriteLine($"At the end: {LoadAverage()}.");
    return;
}

var measure = TimeSpan.FromSeconds(Option("--seconds", 6));
var warmup = TimeSpan.FromSeconds(Option("--warmup", 1));
var rounds = Option("--rounds", 3);
int[] concurrencies = [1, 16];

// Notifications through the activities (Durable on Azurite) to the fake Service Bus: --dispatch [singles,batches].
if (Array.IndexOf(args, "--dispatch") is var dispatch and >= 0)
{
    var counts = dispatch + 1 < args.Length && !args[dispatch + 1].StartsWith("--", StringComparison.Ordinal)
        ? args[dispatch + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
        : [500, 50];
    Console.WriteLine($"Notifier and delivery orchestrations on Azurite to a loopback fake Service Bus (FakeAmqpBroker, AMQP); {Environment.ProcessorCount} cores; {LoadAverage()}.");
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
// Each concurrency level runs on a fresh Azurite (see below), stopped when done.
var azurite = await AzuriteServer.StartAsync();
var node = AzuriteProcess(azurite.TablePort);
var storageMeter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
long? azuritePeak = null;
var run = "b" + Guid.NewGuid().ToString("N")[..6];
var results = new List<Result>();
var prefixes = 0;
const string RawTable = "rawtx";
const string Api = "api";

// The placement HTTP API: one fresh app (own storage prefix and task hub, own homes) per concurrency, and the two raw
// baselines measured while it runs: the 2-entity transaction, and a raw orchestration on a task hub of its own.
// Each concurrency level gets a fresh Azurite: Azurite keeps the messages of all queues in one collection and scans it
// on every receive, and Durable's dispatchers poll their queues many times a second, so messages left unread by
// earlier cases would make every Durable step slower.
Console.WriteLine(
    $"HTTP API: the WinterOps app in this process on a loopback port; app logging off; its Durable worker on; engine queues and timers off " +
    $"(no dispatcher, no queue polling by the engine: its queue messages pile up unread); {ApiBench.Homes} care homes, each 900 nursing beds " +
    "vacantAccepting. Raw orchestration: start -> one activity -> complete on the same local Durable engine (own task hub), polled with GetInstanceAsync.");
foreach (var concurrency in concurrencies)
{
    await SwitchAzuriteAsync();
    using var storageKinds = new StorageKinds(azurite.TablePort, azurite.QueuePort);
    await using var api = await ApiBench.StartAsync(azurite, concurrency);
    await using var orchestration = await RawOrchestration.StartAsync(azurite);
    Case raw = null!;
    Case placements = null!;
    Case acceptances = null!;
    raw = new Case("raw: orchestration, 1 activity", Api, concurrency,
        (_, i) => orchestration.RunOnceAsync(i, f => raw.NoteFailure(f)), meters: null, NodeCpu, storageMeter, storageKinds, storageOnPath: false);
    placements = new Case("api: POST /api/placements", Api, concurrency,
        (worker, _) => api.RequestPlacementAsync(worker, f => placements.NoteFailure(f)), meters: null, NodeCpu, storageMeter, storageKinds, storageOnPath: false);
    acceptances = new Case("api: POST .../offers/{home}/accept", Api, concurrency,
        (worker, _) => api.AcceptAsync(worker, f => acceptances.NoteFailure(f)), meters: null, NodeCpu, storageMeter, storageKinds, storageOnPath: false);
    // A stock of placements to accept, so that acceptances never wait for placements (see the README).
    await placements.WarmUpAsync(warmup * 2);
    await MeasureAsync(concurrency, [await RawAsync(Api, concurrency, storageKinds), (raw, null), (placements, null), (acceptances, null)]);
    var (homes, chars, reservations) = await api.CareHomeRowsAsync();
    Console.WriteLine(
        $"    after concurrency {concurrency}: {api.WaitingToBeAccepted} placements left unaccepted; {homes} care-home rows hold " +
        $"{reservations} reservations in {chars / 1024.0:0} KB of state JSON, all of which every placement request reads.");
    var (instances, engineP50, engineP99) = orchestration.EngineTime();
    Console.WriteLine(
        $"    raw orchestration at concurrency {concurrency}, the engine's own time (instance created -> completed, {instances} instances, " +
        $"warm-up included; no client polling): p50 {engineP50:0} ms, p99 {engineP99:0} ms.");
    Console.WriteLine($"    {await UnreadMessagesAsync()}");
}

using (var self = Process.GetCurrentProcess())
{
    node?.Refresh();
    azuritePeak = Math.Max(azuritePeak ?? 0, node?.PeakWorkingSet64 ?? 0);
    Report.Print(
        results,
        new Dictionary<string, string>
        {
            [Api] =
                "HTTP API, app running (vs tx, vs orch: ops/s over the raw transaction's and the raw orchestration's, measured while the app ran,\n" +
                "same concurrency). A placement request stores the request, starts the Placement orchestration and answers 201 once its\n" +
                "OpenPlacement activity has made the offers (NotifyPlacement follows, off the request path). An acceptance stores the answer,\n" +
                "raises it to the orchestration and answers 200 once DecideResponse has recorded the decision, after ReserveBed (NotifyPlacement follows):",
        },
        self.PeakWorkingSet64,
        azuritePeak);
    Console.WriteLine($"At the end: {LoadAverage()}.");
}

storageMeter.Dispose();
node?.Dispose();
await azurite.DisposeAsync();
return;

// Stops the current Azurite and starts a fresh one, with the meters that watch it.
async Task SwitchAzuriteAsync()
{
    node?.Refresh();
    azuritePeak = Math.Max(azuritePeak ?? 0, node?.PeakWorkingSet64 ?? 0);
    storageMeter.Dispose();
    node?.Dispose();
    await azurite.DisposeAsync();
    azurite = await AzuriteServer.StartAsync();
    node = AzuriteProcess(azurite.TablePort);
    storageMeter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
}

// The messages left in Azurite's queues (every receive scans them all), by queue.
async Task<string> UnreadMessagesAsync()
{
    var service = new QueueServiceClient(azurite.ConnectionString);
    var counts = new List<(string Name, int Count)>();
    await foreach (var queue in service.GetQueuesAsync())
    {
        counts.Add((queue.Name, (await service.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount));
    }

    var top = counts.Where(c => c.Count > 0).OrderByDescending(c => c.Count).Take(3).Select(c => $"{c.Name} {c.Count}");
    return $"unread messages in this Azurite's {counts.Count} queues at the end: {counts.Sum(c => c.Count)} (most: {string.Join(", ", top)}).";
}

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
    var table = (await FreshStorageAsync()).Table(RawTable);
    return (new Case("raw: 2-entity transaction", group, concurrency, async (worker, i) =>
    {
        var partition = $"raw-w{worker}-{i}";
        await table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "a") { ["Version"] = i, ["Data"] = "{\"n\":1}" }),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "b") { ["Version"] = i }),
        ]);
        return Outcome.Ok;
    }, meters: null, NodeCpu, storageMeter, kinds, storageOnPath: false), null); // the idle Durable hubs poll meanwhile
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
    await storage.Table(RawTable).CreateIfNotExistsAsync();

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

// Azurite is our child `node` process listening on this table port (Linux only: found through /proc; elsewhere its columns stay empty).
static Process? AzuriteProcess(int tablePort)
{
    if (!OperatingSystem.IsLinux())
    {
        return null;
    }

    var me = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    var port = tablePort.ToString(CultureInfo.InvariantCulture);
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
            var arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            var listens = Array.IndexOf(arguments, "--tablePort") is var at and >= 0 && at + 1 < arguments.Length && arguments[at + 1] == port;
            if (parent == me && listens && int.TryParse(Path.GetFileName(dir), out var pid) && Process.GetProcessById(pid) is { ProcessName: "node" } process)
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
