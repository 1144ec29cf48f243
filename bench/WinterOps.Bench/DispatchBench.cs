using System.Diagnostics;
using System.Globalization;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Notifications;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;

namespace WinterOps.Bench;

/// <summary>
/// Notifications delivered per second through the activities to a loopback fake Service Bus: the app's
/// <see cref="Notifier"/> (as every workflow's notify activity calls it, 16 at once) writes the inbox rows and starts
/// one delivery orchestration per notification, whose Service Bus activity sends with the app's one ServiceBusClient
/// to <see cref="FakeAmqpBroker"/>. The clock runs from the first notify until the broker holds every message. Against
/// raw SDK sends to the same broker in the same run: the messages of one notification (same shape), sent again with
/// fresh MessageIds by 16 concurrent workers on one sender of a client of their own.
/// </summary>
internal static class DispatchBench
{
    public static async Task RunAsync(AzuriteServer azurite, int singles, int batches, TimeSpan rawLength)
    {
        using var meter = new StorageMeter(azurite.TablePort, azurite.QueuePort);
        Console.WriteLine(
            $"{"mode",-17} {"notices",8} {"notify s",9} {"deliver s",10} {"notices/s",10} {"msgs/s",9} {"raw notices/s",14} {"vs raw",7} {"table req",10} {"queue req",10}");
        foreach (var (mode, orgs, count) in new[] { ("single (1 org)", 1, singles), ("batch (100 orgs)", 100, batches) })
        {
            // A fresh broker per mode: it keeps every message in memory and has no Clear.
            await using var broker = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
            await using var app = await TestApp.StartAsync(azurite, configure: b =>
            {
                b.Configuration["Notifications:ServiceBus:ConnectionString"] = broker.ConnectionString;
                b.Configuration["Notifications:Routes:BenchNotice"] = "servicebus";
            });
            var notifier = app.Get<Notifier>();
            var durable = app.Get<IDurableTaskClientProvider>().GetClient();
            var before = meter.Read();
            var deliver = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await notifier.NotifyAsync(durable, $"bench-{i:D6}", $"bench-{i:D6}", Notice(orgs), DateTimeOffset.UtcNow, ct));
            var notified = deliver.Elapsed;
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
            var requests = meter.Read() - before; // per notification below: inbox rows, Durable's history, queues and timers' polls
            var transfers = broker.Transfers;

            // One notification of the run, as the broker received it: its message (single) or its 100 (batch).
            var first = delivered[0].MessageId!;
            var id = orgs == 1 ? first : first[..first.LastIndexOf(':')];
            var shapes = delivered.Where(m => m.MessageId == id || m.MessageId!.StartsWith(id + ":", StringComparison.Ordinal)).ToList();
            var raw = await RawAsync(broker, shapes, rawLength);
            var rate = count / deliver.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-17} {count,8} {notified.TotalSeconds,9:F1} {deliver.Elapsed.TotalSeconds,10:F1} {rate,10:F1} {rate * orgs,9:F0} {raw,14:F0} {rate / raw,7:F3} {(double)requests.Table / count,10:F1} {(double)requests.Queue / count,10:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {delivered.Count} messages held ({shapes.Count} per notification) in {transfers} transfers; {Machine.LoadAverage()}."));
        }
    }

    /// <summary>A synthetic notice to <paramref name="orgs"/> organisations (routed to Service Bus only, so the figure is that channel's).</summary>
    private static Notification Notice(int orgs) => new(
        "BenchNotice", Recipient.Org("B0000"), "Bench notice", "bench", new Dictionary<string, string> { ["n"] = "1" },
        AlsoTo: orgs == 1 ? null : Enumerable.Range(1, orgs - 1).Select(o => Recipient.Org($"B{o:D4}")).ToList());

    /// <summary>Notifications per second the broker takes when 16 workers send <paramref name="shapes"/> again (fresh ids) for <paramref name="length"/>.</summary>
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
