using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Testing.Fakes;

namespace WinterOps.Bench;

/// <summary>
/// Dispatch to a loopback fake Service Bus: notification intents delivered per second through
/// <see cref="ServiceBusChannel"/> to <see cref="FakeServiceBus"/> (SAS check, parsing, duplicate detection),
/// against the fake alone (the same requests, recorded once, replayed with a plain HttpClient).
/// </summary>
internal static class ServiceBusBench
{
    private sealed record Row(string Case, string Mode, int Concurrency, long Intents, long Messages, double Seconds, List<double> LatenciesMs);

    public static async Task RunAsync(TimeSpan measure, TimeSpan warmup, int rounds)
    {
        await using var bus = await FakeServiceBus.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = ChannelHttp.RequestTimeout };
        var channel = new ServiceBusChannel(
            new ServiceBusOptions { ConnectionString = bus.ConnectionString, BaseUrl = bus.BaseAddress.ToString() }, http, TimeProvider.System, NullLogger<ServiceBusChannel>.Instance);
        Console.WriteLine(
            $"Dispatch to a loopback fake Service Bus (Kestrel in this process); {warmup.TotalSeconds:0} s warm-up, {measure.TotalSeconds:0} s measured in {rounds} " +
            $"interleaved rounds; {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}.");
        var rows = new List<Row>();
        foreach (var concurrency in new[] { 1, 16 })
        {
            foreach (var (mode, orgs) in new[] { ("single (1 org)", 1), ("batch (100 orgs)", 100) })
            {
                var replay = await RecordAsync(bus, channel, orgs);
                var messagesPerIntent = orgs;
                var cases = new (string Name, Func<int, long, Task> Op)[]
                {
                    ("channel", (worker, i) => channel.SendAsync(Intent($"bench-{mode[0]}-{concurrency}-w{worker}-{i}", orgs), default)),
                    ("raw HttpClient", (_, _) => ReplayAsync(http, bus.BaseAddress, replay)),
                };
                var measured = cases.Select(c => new Row(c.Name, mode, concurrency, 0, 0, 0, [])).ToArray();
                foreach (var c in cases)
                {
                    await LoopAsync(concurrency, warmup, c.Op);
                }

                for (var round = 0; round < rounds; round++)
                {
                    for (var k = 0; k < cases.Length; k++)
                    {
                        bus.Clear();
                        var clock = Stopwatch.StartNew();
                        var latencies = await LoopAsync(concurrency, measure / rounds, cases[k].Op);
                        var row = measured[k];
                        measured[k] = row with
                        {
                            Intents = row.Intents + latencies.Count, Messages = row.Messages + (latencies.Count * messagesPerIntent),
                            Seconds = row.Seconds + clock.Elapsed.TotalSeconds, LatenciesMs = [.. row.LatenciesMs, .. latencies],
                        };
                    }
                }

                rows.AddRange(measured);
            }
        }

        Print(rows);
    }

    /// <summary>The exact requests the channel makes for one intent, to replay as the raw baseline.</summary>
    private static async Task<List<(string Body, List<KeyValuePair<string, string>> Headers)>> RecordAsync(FakeServiceBus bus, ServiceBusChannel channel, int orgs)
    {
        bus.Clear();
        bus.Recording = true;
        await channel.SendAsync(Intent("bench-recorded", orgs), default);
        bus.Recording = false;
        return bus.Requests.Select(Replayable).ToList();
    }

    /// <summary>A recorded request as <see cref="ReplayAsync"/> sends it again: its body and headers, less those the client sets itself.</summary>
    internal static (string Body, List<KeyValuePair<string, string>> Headers) Replayable(RecordedRequest request) =>
        (request.Body, request.Headers.Where(h => h.Key is not ("Host" or "Content-Length")).ToList());

    internal static async Task ReplayAsync(HttpClient http, Uri baseAddress, List<(string Body, List<KeyValuePair<string, string>> Headers)> replay)
    {
        foreach (var (body, headers) in replay)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, "winterops-events/messages?timeout=60")) { Content = new StringContent(body) };
            request.Content.Headers.Clear();
            foreach (var (name, value) in headers)
            {
                if (!request.Headers.TryAddWithoutValidation(name, value))
                {
                    request.Content.Headers.TryAddWithoutValidation(name, value);
                }
            }

            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }
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
    private static OutgoingNotification Intent(string outboxId, int orgs)
    {
        var recipients = Enumerable.Range(0, orgs).Select(i => Recipient.Org($"R{i:D3}")).ToList();
        var data = new Dictionary<string, string> { ["date"] = "2026-01-12", ["sector"] = "acute" };
        return new OutgoingNotification(outboxId, "round-2026-01-12",
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
