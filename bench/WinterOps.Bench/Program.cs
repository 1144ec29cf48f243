using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using WinterOps.Bench;
using WinterOps.Testing;

// The WinterOps bench, in one run on one in-memory Azurite: the raw Table transaction; on the local Durable engine, the
// raw orchestration (start -> one activity -> complete) and external events into one instance; and the app's actions over
// HTTP (placement request, acceptance, partner return, escalation acknowledgement); at 1 and 16 clients. See README.md.
// Usage: dotnet run -c Release --project bench/WinterOps.Bench [--seconds 6] [--warmup 1] [--rounds 3] [--events 200]
//        dotnet run -c Release --project bench/WinterOps.Bench -- --tuning [--seconds 3] [--warmup 1] [--events 200] [--rounds 2]  (raw cases under host.json variations; rounds = passes)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --opel [50,500,5000]   (the daily OPEL round on its orchestration at scale)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --dispatch [500,50]  (notifications through the Notifier and delivery orchestrations to the fake AMQP broker)
//        dotnet run -c Release --project bench/WinterOps.Bench -- --servicebus  (the Service Bus channel alone against raw SDK sends)
var measure = TimeSpan.FromSeconds(Option("--seconds", 6));
var warmup = TimeSpan.FromSeconds(Option("--warmup", 1));
var rounds = Option("--rounds", 3);
var events = Option("--events", 200);

if (Array.IndexOf(args, "--opel") is var opel and >= 0)
{
    Console.WriteLine($"OPEL round (Durable orchestrations) on a fresh Azurite per size; {Environment.ProcessorCount} cores; {Machine.LoadAverage()}.");
    await OpelBench.RunAsync(Sizes(opel, [50, 500, 5000]));
    Console.WriteLine($"At the end: {Machine.LoadAverage()}.");
    return;
}

if (Array.IndexOf(args, "--dispatch") is var dispatch and >= 0)
{
    var counts = Sizes(dispatch, [500, 50]);
    Console.WriteLine($"Notifier and delivery orchestrations on Azurite to a loopback fake Service Bus (FakeAmqpBroker, AMQP); {Environment.ProcessorCount} cores; {Machine.LoadAverage()}.");
    await using var dispatchAzurite = await AzuriteServer.StartAsync();
    await DispatchBench.RunAsync(dispatchAzurite, counts[0], counts[1], measure);
    Console.WriteLine($"At the end: {Machine.LoadAverage()}.");
    return;
}

if (args.Contains("--servicebus"))
{
    await ServiceBusBench.RunAsync(measure, warmup, rounds);
    return;
}

if (args.Contains("--tuning"))
{
    await Tuning.RunAsync(TimeSpan.FromSeconds(Option("--seconds", 3)), warmup, events, Option("--rounds", 2));
    return;
}

Console.WriteLine(
    $"Starting Azurite; per case {warmup.TotalSeconds:0} s warm-up, then {measure.TotalSeconds:0} s measured in {rounds} interleaved rounds; " +
    $"{events} events per instance; {Environment.ProcessorCount} cores; {Machine.LoadAverage()}.");
await using var azurite = await AzuriteServer.StartAsync();
using var node = Machine.AzuriteProcess(azurite.TablePort);
var azuriteCpu = Machine.CpuOf(node);
using var storage = new StorageMeter(azurite.TablePort, azurite.QueuePort);
using var kinds = new StorageKinds(azurite.TablePort, azurite.QueuePort);
var rawTable = new TableServiceClient(azurite.ConnectionString).GetTableClient("benchrawtx");
await rawTable.CreateIfNotExistsAsync();
var results = new List<Result>();

// Per concurrency level, a fresh app (own storage prefix and task hub: empty tables and queues) and a fresh raw Durable
// host (own task hub), on the same Azurite as the level before; the previous level's app and host are stopped.
Console.WriteLine(
    $"The WinterOps app in this process on a loopback port (logging off, timers off, its Durable worker on), {ApiBench.Homes} care homes " +
    $"(900 nursing beds vacantAccepting each), {ApiBench.Reporters} reporting partners; next to it the raw Durable host on its own task hub.");
foreach (var concurrency in new[] { 1, 16 })
{
    await using var api = await ApiBench.StartAsync(azurite, concurrency);
    await using var raw = await RawOrchestration.StartAsync(azurite);
    Case orchestration = null!, eventsCase = null!, placements = null!, acceptances = null!, returns = null!, acknowledgements = null!;
    var transaction = new Case("raw: 2-entity transaction", concurrency, (worker, i) => TransactionAsync($"c{concurrency}-w{worker}-{i}"), azuriteCpu, storage, kinds);
    orchestration = new Case("raw: orchestration, 1 activity", concurrency,
        (_, i) => raw.RunOnceAsync(i, orchestration.NoteFailure), azuriteCpu, storage, kinds);
    eventsCase = new Case("raw: external events, 1 instance", concurrency,
        (_, _) => raw.RaiseEventsAsync(events, concurrency, eventsCase.NoteFailure), azuriteCpu, storage, kinds, workers: 1, units: events);
    placements = new Case("api: request -> offers open", concurrency,
        (worker, _) => api.RequestPlacementAsync(worker, placements.NoteFailure), azuriteCpu, storage, kinds);
    acceptances = new Case("api: accept -> decision", concurrency,
        (worker, _) => api.AcceptAsync(worker, acceptances.NoteFailure), azuriteCpu, storage, kinds);
    returns = new Case("api: return -> accepted", concurrency,
        (worker, _) => api.SubmitReturnAsync(worker, returns.NoteFailure), azuriteCpu, storage, kinds);
    acknowledgements = new Case("api: acknowledge -> recorded", concurrency,
        (worker, _) => api.AcknowledgeAsync(worker, acknowledgements.NoteFailure), azuriteCpu, storage, kinds);
    Case[] cases = [transaction, orchestration, eventsCase, placements, acceptances, returns, acknowledgements];

    // Stocks, so that acceptances and acknowledgements never wait for their placements and escalations (see the README).
    Console.WriteLine($"  concurrency {concurrency}: making placements to accept and escalations to acknowledge; {Machine.LoadAverage()}.");
    await placements.WarmUpAsync(warmup * 2);
    var stock = (int)Math.Ceiling(25 * (warmup + measure).TotalSeconds);
    var raising = Stopwatch.StartNew();
    await api.RaiseEscalationsAsync(stock);
    Console.WriteLine($"    {stock} escalations raised and waiting in {raising.Elapsed.TotalSeconds:0.0} s.");
    foreach (var c in cases)
    {
        await c.WarmUpAsync(warmup);
    }

    for (var round = 1; round <= rounds; round++)
    {
        Console.WriteLine($"  concurrency {concurrency}, round {round}/{rounds}; {Machine.LoadAverage()}");
        foreach (var c in cases)
        {
            await c.MeasureAsync(measure / rounds);
        }
    }

    results.AddRange(cases.Select(c => c.Result()));
    var (homes, chars, reservations) = await api.CareHomeRowsAsync();
    var (instances, engineP50, engineP99) = raw.EngineTime();
    var unread = await UnreadMessagesAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    after concurrency {concurrency}: {api.WaitingToBeAccepted} placements left unaccepted, {api.WaitingToBeAcknowledged} escalations unacknowledged; " +
        $"{homes} care-home rows hold {reservations} reservations in {chars / 1024.0:0} KB of state JSON, all of which every placement request reads.\n" +
        $"    the engine's own time (no client polling): raw orchestration created -> completed p50 {engineP50:0} ms, p99 {engineP99:0} ms ({instances} instances); " +
        $"events, first raise -> instance completed: {raw.EngineEventRate():0} events/s (median instance).\n" +
        $"    {unread}; {Machine.LoadAverage()}."));
}

using (var self = Process.GetCurrentProcess())
{
    node?.Refresh();
    Report.Print(results, self.PeakWorkingSet64, node?.PeakWorkingSet64);
}

Console.WriteLine(
    "Microsoft's published per-instance figures for the Azure Storage provider: 5 sequential activities/s, 100 fan-out activities/s, 50 external events/s.");
Console.WriteLine($"At the end: {Machine.LoadAverage()}.");
return;

// The baseline: one entity-group transaction adding two small entities to a fresh partition.
async Task<Outcome> TransactionAsync(string partition)
{
    await rawTable.SubmitTransactionAsync(
    [
        new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "a") { ["Version"] = 1, ["Data"] = "{\"n\":1}" }),
        new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "b") { ["Version"] = 1 }),
    ]);
    return Outcome.Ok;
}

// The messages left in Azurite's queues (every receive scans them), and the queues holding most.
async Task<string> UnreadMessagesAsync()
{
    var service = new QueueServiceClient(azurite.ConnectionString);
    var counts = new List<(string Name, int Count)>();
    await foreach (var queue in service.GetQueuesAsync())
    {
        counts.Add((queue.Name, (await service.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount));
    }

    var top = counts.Where(c => c.Count > 0).OrderByDescending(c => c.Count).Take(3).Select(c => $"{c.Name} {c.Count}");
    return $"unread messages in Azurite's {counts.Count} queues: {counts.Sum(c => c.Count)} (most: {string.Join(", ", top)})";
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

// The comma-separated sizes after a mode's flag, or the defaults.
int[] Sizes(int flag, int[] fallback) =>
    flag + 1 < args.Length && !args[flag + 1].StartsWith("--", StringComparison.Ordinal)
        ? [.. args[flag + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]
        : fallback;
