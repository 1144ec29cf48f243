using System.Diagnostics;
using System.Globalization;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Testing.Fakes;

namespace WinterOps.Bench;

/// <summary>
/// Dispatch to a loopback fake Service Bus: notification intents delivered per second through
/// <see cref="ServiceBusChannel"/> (Azure.Messaging.ServiceBus over AMQP) to <see cref="FakeAmqpBroker"/>, against raw
/// SDK sends of the same messages on the same sender to the same broker (see <see cref="RawSends"/>).
/// </summary>
internal static class ServiceBusBench
{
    private sealed record Row(string Case, string Mode, int Concurrency, long Intents, long Messages, double Seconds, List<double> LatenciesMs);

    public static async Task RunAsync(TimeSpan measure, TimeSpan warmup, int rounds)
    {
        Console.WriteLine(
            $"Dispatch to a loopback fake Service Bus (FakeAmqpBroker in this process, AMQP over loopback, one ServiceBusClient and sender " +
            $"per block); {warmup.TotalSeconds:0} s warm-up, {measure.TotalSeconds:0} s measured in {rounds} interleaved rounds; " +
            $"{Environment.ProcessorCount} cores; {Machine.LoadAverage()}.");
        var rows = new List<Row>();
        foreach (var concurrency in new[] { 1, 16 })
        {
            foreach (var (mode, orgs) in new[] { ("single (1 org)", 1), ("batch (100 orgs)", 100) })
            {
                // A fresh broker (and client) per block: the fake keeps every message in memory and has no Clear.
                await using var broker = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
                await using var client = Client(broker);
                await using var sender = client.CreateSender(ServiceBusOptions.DefaultTopic);
                var channel = new ServiceBusChannel(sender, NullLogger<ServiceBusChannel>.Instance);
                var raw = await RawSends.RecordAsync(broker, channel, sender, "bench-recorded", orgs, concurrency);
                var next = new long[concurrency]; // per worker, across warm-up and rounds: every notification id is new to the broker
                var cases = new (string Name, Func<int, long, Task> Op)[]
                {
                    ("channel", (worker, _) => channel.SendAsync(Intent($"bench-{mode[0]}-{concurrency}-w{worker}-{next[worker]++}", orgs), default)),
                    ("raw SDK", raw.SendAsync),
                };
                var measured = cases.Select(c => new Row(c.Name, mode, concurrency, 0, 0, 0, [])).ToArray();
                long sent = orgs; // the recorded intent
                foreach (var c in cases)
                {
                    sent += (await LoopAsync(concurrency, warmup, c.Op)).Count * (long)orgs;
                }

                for (var round = 0; round < rounds; round++)
                {
                    for (var k = 0; k < cases.Length; k++)
                    {
                        var clock = Stopwatch.StartNew();
                        var latencies = await LoopAsync(concurrency, measure / rounds, cases[k].Op);
                        var row = measured[k];
                        sent += latencies.Count * (long)orgs;
                        measured[k] = row with
                        {
                            Intents = row.Intents + latencies.Count, Messages = row.Messages + (latencies.Count * orgs),
                            Seconds = row.Seconds + clock.Elapsed.TotalSeconds, LatenciesMs = [.. row.LatenciesMs, .. latencies],
                        };
                    }
                }

                // Sanity: every message sent is held once (ids are all fresh), in one transfer per intent.
                var held = broker.Messages.Count;
                var transfers = broker.Transfers;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {mode}, concurrency {concurrency}: {sent} messages sent (warm-up included), {held} held by the broker, {transfers} transfers, {broker.Batches} batched; {Machine.LoadAverage()}."));
                if (held != sent)
                {
                    throw new InvalidOperationException($"{mode}, concurrency {concurrency}: {sent} messages sent but the broker holds {held}.");
                }

                rows.AddRange(measured);
            }
        }

        Print(rows);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"Peak working set {self.PeakWorkingSet64 / (1024 * 1024)} MB; at the end: {Machine.LoadAverage()}.");
    }

    /// <summary>A client on <paramref name="broker"/> with the options the app uses (<see cref="ServiceBusChannel.ClientOptions"/>).</summary>
    internal static ServiceBusClient Client(FakeAmqpBroker broker)
    {
        var options = new ServiceBusClientOptions();
        ServiceBusChannel.ClientOptions(options);
        return new ServiceBusClient(broker.ConnectionString, options);
    }

    internal static async Task<List<double>> LoopAsync(int concurrency, TimeSpan length, Func<int, long, Task> op)
    {
        var stop = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var perWorker = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var latencies = new List<double>();
            for (long i = 0; Stopwatch.GetTimestamp() < stop; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await op(worker, i);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return latencies;
        }));
        return [.. perWorker.SelectMany(l => l)];
    }

    /// <summary>A round-opened style notice (ids and codes only) to <paramref name="orgs"/> partners.</summary>
    internal static OutgoingNotification Intent(string id, int orgs)
    {
        var recipients = Enumerable.Range(0, orgs).Select(i => Recipient.Org($"R{i:D3}")).ToList();
        var data = new Dictionary<string, string> { ["date"] = "2026-01-12", ["sector"] = "acute" };
        return new OutgoingNotification(id, "round-2026-01-12",
            new Notification("OpelRoundOpened", recipients[0], "Today's OPEL return is open", "round-2026-01-12", data, "/api/returns/2026-01-12", [.. recipients.Skip(1)]),
            DateTimeOffset.UtcNow, []);
    }

    private static void Print(List<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"{"case",-16} {"mode",-17} {"conc",4} {"intents",8} {"intents/s",10} {"msgs/s",9} {"vs raw",7} {"p50 ms",7} {"p99 ms",7}");
        foreach (var r in rows)
        {
            var raw = rows.Single(x => x.Case.StartsWith("raw", StringComparison.Ordinal) && x.Mode == r.Mode && x.Concurrency == r.Concurrency);
            var sorted = r.LatenciesMs.Order().ToArray();
            double P(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Case,-16} {r.Mode,-17} {r.Concurrency,4} {r.Intents,8} {r.Intents / r.Seconds,10:F0} {r.Messages / r.Seconds,9:F0} {r.Intents / r.Seconds / (raw.Intents / raw.Seconds),7:F2} {P(0.5),7:F2} {P(0.99),7:F2}"));
        }
    }
}

/// <summary>
/// The raw SDK baseline: the messages the channel sent for one intent, as the broker received them (body, MessageId,
/// Subject, ContentType, CorrelationId, application properties), rebuilt once per worker and sent again with a fresh
/// MessageId each time (so the broker stores every one, as it does the channel's): one message with
/// <see cref="ServiceBusSender.SendMessageAsync"/>, several with <see cref="ServiceBusSender.CreateMessageBatchAsync"/>,
/// <see cref="ServiceBusMessageBatch.TryAddMessage"/> each, <see cref="ServiceBusSender.SendMessagesAsync(ServiceBusMessageBatch, CancellationToken)"/>.
/// </summary>
internal sealed class RawSends
{
    private static int _instances;
    private readonly ServiceBusSender _sender;
    private readonly ServiceBusMessage[][] _perWorker;
    private readonly long[] _next; // per worker, so that ids stay fresh across loops
    private readonly string _prefix = $"raw{Interlocked.Increment(ref _instances)}";

    private RawSends(ServiceBusSender sender, IReadOnlyList<BrokeredMessage> shapes, int workers)
    {
        _sender = sender;
        _perWorker = [.. Enumerable.Range(0, workers).Select(_ => shapes.Select(Rebuild).ToArray())];
        _next = new long[workers];
    }

    /// <summary>Sends an intent with id <paramref name="id"/> to <paramref name="orgs"/> orgs once through <paramref name="channel"/> and keeps what the broker received from it.</summary>
    public static async Task<RawSends> RecordAsync(FakeAmqpBroker broker, ServiceBusChannel channel, ServiceBusSender sender, string id, int orgs, int workers)
    {
        var before = broker.Messages.Count;
        await channel.SendAsync(ServiceBusBench.Intent(id, orgs), default);
        var shapes = (await broker.WaitForAsync(before + 1, TimeSpan.FromSeconds(30)))
            .Where(m => m.MessageId is { } messageId && (messageId == id || messageId.StartsWith(id + ":", StringComparison.Ordinal))).ToList();
        return For(sender, shapes, workers);
    }

    public static RawSends For(ServiceBusSender sender, IReadOnlyList<BrokeredMessage> shapes, int workers) => new(sender, shapes, workers);

    public async Task SendAsync(int worker, long _)
    {
        var messages = _perWorker[worker];
        var i = _next[worker]++;
        if (messages.Length == 1)
        {
            messages[0].MessageId = $"{_prefix}-w{worker}-{i}";
            await _sender.SendMessageAsync(messages[0]);
            return;
        }

        using var batch = await _sender.CreateMessageBatchAsync();
        for (var k = 0; k < messages.Length; k++)
        {
            messages[k].MessageId = $"{_prefix}-w{worker}-{i}:{k}";
            if (!batch.TryAddMessage(messages[k]))
            {
                throw new InvalidOperationException($"Message {k} does not fit in the batch.");
            }
        }

        await _sender.SendMessagesAsync(batch);
    }

    private static ServiceBusMessage Rebuild(BrokeredMessage shape)
    {
        var message = new ServiceBusMessage(shape.Body)
        {
            MessageId = shape.MessageId, Subject = shape.Subject, ContentType = shape.ContentType, CorrelationId = shape.CorrelationId,
        };
        foreach (var (key, value) in shape.ApplicationProperties)
        {
            message.ApplicationProperties[key] = value;
        }

        return message;
    }
}
