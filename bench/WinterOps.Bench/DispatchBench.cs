using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;

namespace WinterOps.Bench;

/// <summary>
/// Notification intents delivered per second through the whole dispatch path to a loopback fake Service Bus:
/// outbox-dispatch queue -> OutboxDispatcher (inbox row, delivery queued) -> notification-deliveries queue ->
/// Deliveries -> ServiceBusChannel (the app's one ServiceBusClient) -> FakeAmqpBroker, run by the app's
/// LocalTriggerRunner as the Functions host would run the two queue functions (batches of 16). The intents are
/// committed first (not timed); the clock runs from starting the runner until the broker holds every message.
/// Against raw SDK sends to the same broker: the messages of one intent of the run (same shape), sent again with
/// fresh MessageIds by 16 concurrent workers on one sender of a client of their own.
/// </summary>
internal static class DispatchBench
{
    public static async Task RunAsync(AzuriteServer azurite, int singles, int batches, TimeSpan rawLength)
    {
        using var meter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
        Console.WriteLine(
            $"{"mode",-17} {"intents",8} {"commit s",9} {"deliver s",10} {"intents/s",10} {"msgs/s",9} {"raw intents/s",14} {"vs raw",7} {"table req",10} {"queue req",10}");
        foreach (var (mode, workflow, orgs, count) in new[] { ("single (1 org)", BenchWorkflow.Notifying, 1, singles), ("batch (100 orgs)", BenchWorkflow.Fanout, 100, batches) })
        {
            // A fresh broker per mode: it keeps every message in memory and has no Clear.
            await using var broker = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
            await using var app = await TestApp.StartAsync(azurite, localTriggers: false, configure: b =>
                b.Configuration["Notifications:ServiceBus:ConnectionString"] = broker.ConnectionString);
            var handler = new CommandHandler(app.Get<IEventStore>(), new WorkflowCatalog([workflow]), app.Get<IOutboxSignal>());
            var actor = Actor.System("bench");
            var commit = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await handler.HandleAsync(workflow, $"d{i}", new Tick(i), new CommandContext($"d{i}", actor, DateTimeOffset.UtcNow), expectedVersion: 0, ct));
            commit.Stop();

            var runner = ActivatorUtilities.CreateInstance<WinterOps.Functions.Engine.EngineQueues>(app.Services);
            var before = meter.Read();
            var deliver = Stopwatch.StartNew();
            await runner.StartAsync(CancellationToken.None);
            IReadOnlyList<BrokeredMessage> delivered;
            try
            {
                delivered = await broker.WaitForAsync(count * orgs, TimeSpan.FromMinutes(10));
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{mode}: {e.Message}", e);
            }

            deliver.Stop();
            var requests = meter.Read() - before; // per intent below; includes the runner's idle polls of the other queues
            await runner.StopAsync(CancellationToken.None);
            var transfers = broker.Transfers;

            // One intent of the run, as the broker received it: its message (single) or its 100 (batch).
            var first = delivered[0].MessageId!;
            var outboxId = orgs == 1 ? first : first[..first.LastIndexOf(':')];
            var shapes = delivered.Where(m => m.MessageId == outboxId || m.MessageId!.StartsWith(outboxId + ":", StringComparison.Ordinal)).ToList();
            var raw = await RawAsync(broker, shapes, rawLength);
            var rate = count / deliver.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-17} {count,8} {commit.Elapsed.TotalSeconds,9:F1} {deliver.Elapsed.TotalSeconds,10:F1} {rate,10:F0} {rate * orgs,9:F0} {raw,14:F0} {rate / raw,7:F2} {(double)requests.Table / count,10:F1} {(double)requests.Queue / count,10:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {delivered.Count} messages held ({shapes.Count} per intent) in {transfers} transfers during delivery; {ServiceBusBench.LoadAverage()}."));
        }
    }

    /// <summary>Intents per second the broker takes when 16 workers send <paramref name="shapes"/> again (fresh ids) for <paramref name="length"/>.</summary>
    private static async Task<double> RawAsync(FakeAmqpBroker broker, IReadOnlyList<BrokeredMessage> shapes, TimeSpan length)
    {
        await using var client = ServiceBusBench.Client(broker);
        await using var sender = client.CreateSender(ServiceBusOptions.DefaultTopic);
        var raw = RawSends.For(sender, shapes, 16);
        await ServiceBusBench.LoopAsync(16, TimeSpan.FromSeconds(1), raw.SendAsync); // connect and warm up, not timed
        var clock = Stopwatch.StartNew();
        var sent = await ServiceBusBench.LoopAsync(16, length, raw.SendAsync);
        return sent.Count / clock.Elapsed.TotalSeconds;
    }
}
