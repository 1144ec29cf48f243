using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Opel;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// The daily OPEL round at scale, on the real app over real HTTP: N synthetic acute partners (five at
/// OPEL 4) report at once through <c>PUT /api/returns</c> from 16 clients; then the deadline timer
/// assesses the round; measured until every rule-2 escalation has alerted its first contact. Returns
/// per second are compared with 2-entity Table transactions from 16 workers in the same run.
/// </summary>
internal static class OpelBench
{
    public const int Clients = 16;
    public const int AtOpel4 = 5;

    public static async Task<IReadOnlyList<string>> RunAsync(AzuriteServer azurite, IReadOnlyList<int> sizes)
    {
        var lines = new List<string>
        {
            "| partners | returns/s (16 clients) | raw 2-entity tx/s (16 workers) | vs raw | return p50 / p99 | first return -> assessed | -> escalations alerted | assessment alone |",
            "|---|---|---|---|---|---|---|---|",
        };
        foreach (var n in sizes)
        {
            lines.Add(await RunOnceAsync(azurite, n));
            Console.WriteLine(lines[^1]);
        }

        return lines;
    }

    private static async Task<string> RunOnceAsync(AzuriteServer azurite, int partners)
    {
        var clock = new ShiftedClock();
        await using var app = await TestApp.StartAsync(azurite, localTriggers: true, configure: b => b.Logging.ClearProviders(), time: clock);
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Bench Coordinator");
        var ods = Enumerable.Range(1, partners).Select(i => $"Z{i:D4}").ToArray();
        var tokens = new AuthenticationHeaderValue[partners];
        await ForEachAsync(partners, async i =>
        {
            // 201, or 200 when a transient storage retry found the first attempt had already registered it.
            ExpectSuccess(await coordinator.PutAsJsonAsync($"/api/partners/{ods[i]}", new
            {
                name = $"Synthetic Trust {i} (bench)",
                sector = "acute",
                sizeWeight = 100,
                expectedDaily = true,
                contacts = new[] { new { name = "Bench Oncall", entraUserId = (string?)null, role = "On-call director", onCallOrder = 1 } },
            }));
            using var partner = await app.ClientAsAsync("Partner", ods[i], $"Bench Reporter {i}");
            tokens[i] = partner.DefaultRequestHeaders.Authorization!;
        });

        // Tokens are issued on real time; from here the app's clock reads 09:00 London, before the deadline.
        var today = London.Today(DateTimeOffset.UtcNow);
        clock.Shift = London.At(today, new TimeOnly(9, 0)) - DateTimeOffset.UtcNow;
        (await app.Get<RoundOpener>().OpenTodayAsync(force: true, CancellationToken.None)).ShouldBe(today);
        await UntilAsync(async () => (await app.Get<IEventStore>().ReadHeadAsync(RoundStream(today), CancellationToken.None))!.PendingSince is null);

        var latencies = new double[partners];
        var started = Stopwatch.StartNew();
        await ForEachAsync(partners, async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/returns/{Iso(today)}/{ods[i]}") { Content = JsonContent.Create(Return(i < AtOpel4)) };
            request.Headers.Authorization = tokens[i];
            var sent = Stopwatch.GetTimestamp();
            using var response = await app.Client.SendAsync(request);
            latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            Expect(HttpStatusCode.OK, response);
        });
        var returnsDone = started.Elapsed;

        var assessStarted = started.Elapsed;
        var at = clock.GetUtcNow();
        var assessed = await app.Get<RoundTimers>().RunAsync(
            RoundWorkflow.Key(today), new RoundCommand.Assess(at), new CommandContext($"bench-assess-{Guid.NewGuid():N}", Actor.System("bench"), at), CancellationToken.None);
        var assessedAt = started.Elapsed;
        (assessed.State.Assessment?.Partners.Count(p => !p.Missing)).ShouldBe(partners);

        var escalations = ods.Take(AtOpel4).Select(o => EscalationWorkflow.Definition.StreamId(EscalationWorkflow.Key(today, EscalationRule.PartnerAtOpel4, o))).ToList();
        await UntilAsync(async () =>
        {
            foreach (var stream in escalations)
            {
                var (state, _) = await app.Get<CommandHandler>().LoadAsync(EscalationWorkflow.Definition, stream, CancellationToken.None);
                if (state.Status != EscalationStatus.Alerted)
                {
                    return false;
                }
            }

            return true;
        });
        var alertedAt = started.Elapsed;

        var returnsPerSecond = partners / returnsDone.TotalSeconds;
        var raw = await RawPerSecondAsync(app, Math.Max(partners, 2000));
        Array.Sort(latencies);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {partners} | {returnsPerSecond:0} | {raw:0} | {returnsPerSecond / raw:0.00} | {latencies[partners / 2]:0} / {latencies[(int)(partners * 0.99)]:0} ms | " +
            $"{assessedAt.TotalSeconds:0.0} s | {alertedAt.TotalSeconds:0.0} s | {(assessedAt - assessStarted).TotalSeconds:0.00} s |");
    }

    /// <summary>A calm acute return (computed OPEL 1), or one declared at OPEL 4.</summary>
    private static object Return(bool opel4) => new
    {
        metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = 10, ["edFourHourPerformancePct"] = 85, ["edAttendanceVariationPct"] = 0,
            ["majorsResusOccupancyPct"] = 70, ["medianTimeToTreatmentMinutes"] = 45, ["edOver12HoursPct"] = 1,
            ["generalAcuteBedOccupancyPct"] = 88, ["escalationBedsPct"] = 0, ["noCriteriaToResidePct"] = 5,
        },
        declaredLevel = opel4 ? 4 : (int?)null,
        reason = opel4 ? "Synthetic: bench pressure" : null,
    };

    /// <summary>The raw baseline: 2-entity transactions in fresh partitions of a table of the app's prefix, 16 workers.</summary>
    private static async Task<double> RawPerSecondAsync(TestApp app, int count)
    {
        var table = app.Get<WinterOps.Azure.Storage.StorageAccount>().Table("opelraw");
        await table.CreateIfNotExistsAsync();
        var started = Stopwatch.StartNew();
        await ForEachAsync(count, async i =>
        {
            var partition = $"p{i}";
            await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "a") { ["V"] = i }),
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, "b") { ["V"] = i }),
            ]);
        });
        return count / started.Elapsed.TotalSeconds;
    }

    private static async Task ForEachAsync(int count, Func<int, Task> body)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                await body(i);
            }
        }));
    }

    private static async Task UntilAsync(Func<Task<bool>> done)
    {
        var limit = Stopwatch.StartNew();
        while (!await done())
        {
            if (limit.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException("The round did not finish within 10 minutes.");
            }

            await Task.Delay(20);
        }
    }

    private static void ExpectSuccess(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode}");
        }
    }

    private static void Expect(HttpStatusCode expected, HttpResponseMessage response)
    {
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode}, expected {(int)expected}");
        }
    }

    private static void ShouldBe<T>(this T actual, T expected)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            throw new InvalidOperationException($"Expected {expected}, got {actual}.");
        }
    }

    private static string RoundStream(DateOnly day) => RoundWorkflow.Definition.StreamId(RoundWorkflow.Key(day));

    private static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Real time moved by <see cref="Shift"/>; the app's timers and delays still run on real time.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
