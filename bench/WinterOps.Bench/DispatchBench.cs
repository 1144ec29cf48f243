using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Core.Workflows;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;

namespace WinterOps.Bench;

/// <summary>
/// Notification intents delivered per second through the whole dispatch path to a loopback fake Service Bus:
/// outbox-dispatch queue -> OutboxDispatcher (inbox row, delivery queued) -> notification-deliveries queue ->
/// Deliveries -> ServiceBusChannel -> FakeServiceBus, run by the app's LocalTriggerRunner as the Functions host
/// would run the two queue functions (batches of 16). The intents are committed first (not timed); the
/// clock runs from starting the runner until the fake holds every message. Against the fake alone: one of
/// the requests the run made, replayed by 16 plain HttpClient senders.
/// </summary>
internal static class DispatchBench
{
    public static async Task RunAsync(AzuriteServer azurite, int singles, int batches, TimeSpan rawLength)
    {
        await using var bus = await FakeServiceBus.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
        using var meter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
        Console.WriteLine(
            $"{"mode",-17} {"intents",8} {"commit s",9} {"deliver s",10} {"intents/s",10} {"msgs/s",9} {"raw intents/s",14} {"vs raw",7} {"table req",10} {"queue req",10}");
        foreach (var (mode, workflow, orgs, count) in new[] { ("single (1 org)", BenchWorkflow.Notifying, 1, singles), ("batch (100 orgs)", BenchWorkflow.Fanout, 100, batches) })
        {
            await using var app = await TestApp.StartAsync(azurite, localTriggers: false, configure: b =>
            {
                b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString;
                b.Configuration["Notifications:ServiceBus:BaseUrl"] = bus.BaseAddress.ToString();
            });
            var handler = new CommandHandler(app.Get<IEventStore>(), new WorkflowCatalog([workflow]), app.Get<IOutboxSignal>());
            var actor = Actor.System("bench");
            var commit = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await handler.HandleAsync(workflow, $"d{i}", new Tick(i), new CommandContext($"d{i}", actor, DateTimeOffset.UtcNow), expectedVersion: 0, ct));
            commit.Stop();

            bus.Clear();
            bus.Recording = true;
            var runner = ActivatorUtilities.CreateInstance<WinterOps.Functions.Engine.EngineQueues>(app.Services);
            var before = meter.Read();
            var deliver = Stopwatch.StartNew();
            await runner.StartAsync(CancellationToken.None);
            while (bus.MessageCount < count * orgs)
            {
                if (deliver.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new TimeoutException($"{mode}: {bus.MessageCount} of {count * orgs} messages after 10 minutes.");
                }

                await Task.Delay(5);
            }

            deliver.Stop();
            var requests = meter.Read() - before; // per intent below; includes the runner's idle polls of the other queues
            await runner.StopAsync(CancellationToken.None);
            var sample = bus.Requests[0];
            bus.Recording = false;

            var raw = await RawAsync(http, bus.BaseAddress, sample, rawLength);
            var rate = count / deliver.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-17} {count,8} {commit.Elapsed.TotalSeconds,9:F1} {deliver.Elapsed.TotalSeconds,10:F1} {rate,10:F0} {rate * orgs,9:F0} {raw,14:F0} {rate / raw,7:F2} {(double)requests.Table / count,10:F1} {(double)requests.Queue / count,10:F1}"));
        }
    }

    /// <summary>Requests per second the fake answers when 16 senders replay <paramref name="sample"/> for <paramref name="length"/>.</summary>
    private static async Task<double> RawAsync(HttpClient http, Uri baseAddress, RecordedRequest sample, TimeSpan length)
    {
        List<(string Body, List<KeyValuePair<string, string>> Headers)> replay = [ServiceBusBench.Replayable(sample)];
        var clock = Stopwatch.StartNew();
        var sent = await ServiceBusBench.LoopAsync(16, length, (_, _) => ServiceBusBench.ReplayAsync(http, baseAddress, replay));
        return sent.Count / clock.Elapsed.TotalSeconds;
    }
}
