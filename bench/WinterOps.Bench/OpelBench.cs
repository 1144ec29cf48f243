using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Notifications;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Partners;
using WinterOps.LocalHost;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// The daily OPEL round on its Durable orchestration at scale, the real app on a fresh Azurite per size. N synthetic
/// acute partners are registered through the app's partner store (as <c>PUT /api/partners</c> does, without HTTP); the round is opened (<see cref="RoundOpener.OpenTodayAsync"/>) at 09:00 London by the app's clock; N-5 of them
/// report at once through <c>PUT /api/returns</c> from 16 clients, five of those at OPEL 4 (rule 2 raises their
/// escalations at the PUT); five more stay silent with OPEL 4 carried forward from yesterday (so rule 2 raises theirs at
/// the assessment). Then "the deadline": <see cref="RoundOrchestration.WakeEvent"/> with AssessNow, as the demo does.
/// Measured: returns per second (against 2-entity Table transactions from 16 workers in the same run), deadline ->
/// assessed (the round row records the assessment), -> the five assessment-raised escalations alerted, and for the
/// five raised by returns, PUT answered -> alerted; and the round instance's history rows in the task hub.
/// "Alerted" = the EscalationAlert notice is in the partner's inbox (written by the escalation orchestration's
/// NotifyEscalation activity); the instance's custom status reaching version 2 is awaited too, and reported apart.
/// </summary>
internal static class OpelBench
{
    public const int Clients = 16;
    public const int AtOpel4 = 5;
    public const int CarriedAtOpel4 = 5;

    public static async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<int> sizes)
    {
        var lines = new List<string>
        {
            "| partners | returns/s (16 clients) | raw 2-entity tx/s (16 workers) | vs raw | return p50 / p99 | OPEL 4 PUT -> alerted (max of 5) | deadline -> assessed | deadline -> escalations alerted (5) | scan / write alone | round history rows (EventRaised) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        };
        var notes = new List<string>();
        foreach (var n in sizes)
        {
            // A fresh Azurite per size: Azurite scans a queue's messages on every receive and keeps all tables in one
            // in-memory store, so what one size leaves behind would slow the next.
            await using var azurite = await AzuriteServer.StartAsync();
            var (line, note) = await RunOnceAsync(azurite, n);
            lines.Add(line);
            notes.Add(note);
            Console.WriteLine(line);
            Console.WriteLine(note);
        }

        Console.WriteLine();
        foreach (var line in lines.Concat(notes))
        {
            Console.WriteLine(line);
        }

        return [.. lines, .. notes];
    }

    private static async Task<(string Line, string Note)> RunOnceAsync(AzuriteServer azurite, int partners)
    {
        if (partners <= AtOpel4 + CarriedAtOpel4)
        {
            throw new ArgumentOutOfRangeException(nameof(partners), partners, $"A round needs more than {AtOpel4 + CarriedAtOpel4} partners.");
        }

        var clock = new ShiftedClock();
        await using var app = await TestApp.StartAsync(azurite, localTriggers: true, configure: b => b.Logging.ClearProviders(), time: clock);
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        var ods = Enumerable.Range(1, partners).Select(i => $"Z{i:D4}").ToArray();
        var reporting = partners - CarriedAtOpel4; // ods[0..AtOpel4) report at OPEL 4; the last CarriedAtOpel4 stay silent
        var carried = ods[reporting..];

        // Registration through the app's partner store, as PUT /api/partners does (HTTP adds nothing measured here).
        var registration = Stopwatch.StartNew();
        await ForEachAsync(partners, i => RegisterAsync(app, ods[i], i));
        var tokens = new AuthenticationHeaderValue[reporting];
        await ForEachAsync(reporting, async i =>
        {
            using var partner = await app.ClientAsAsync("Partner", ods[i], $"Bench Reporter {i}");
            tokens[i] = partner.DefaultRequestHeaders.Authorization!;
        });
        var registered = registration.Elapsed;

        // Tokens are issued on real time; from here the app's clock reads 09:00 London, before the deadline (and before
        // the late margin, so the returns do not tell the round: they stay on their rows until the assessment reads them).
        var today = London.Today(DateTimeOffset.UtcNow);
        clock.Shift = London.At(today, new TimeOnly(9, 0)) - DateTimeOffset.UtcNow;
        var rounds = app.Get<RoundStore>();
        await rounds.WritePartnersAsync(
            today.AddDays(-1), carried.Select(o => new PartnerAssessment(o, Sector.Acute, 4, Missing: false)).ToList(), 1, CancellationToken.None);

        var opening = Stopwatch.StartNew();
        (await app.Get<RoundOpener>().OpenTodayAsync(durable, force: true, CancellationToken.None)).ShouldBe(today);
        var instance = RoundOrchestration.InstanceId(today);
        // Open once the orchestration waits for the deadline (its custom status is set then, after the request notices).
        await UntilAsync(async () => await StatusAsync(durable, instance) is not null);
        var opened = opening.Elapsed;

        // The rule-2 escalations: raised by the five OPEL 4 returns, and at the assessment by the five carried forward.
        var inbox = app.Get<InboxStore>();
        var byReturn = ods.Take(AtOpel4).Select(o => new Watched(o, EscalationWorkflow.Key(today, EscalationRule.PartnerAtOpel4, o))).ToArray();
        var byAssessment = carried.Select(o => new Watched(o, EscalationWorkflow.Key(today, EscalationRule.PartnerAtOpel4, o))).ToArray();
        using var stopWatching = new CancellationTokenSource();
        var started = Stopwatch.StartNew();
        var watching = WatchAsync(durable, inbox, [.. byReturn, .. byAssessment], started, stopWatching.Token);

        var latencies = new double[reporting];
        var answered = new double[AtOpel4];
        await ForEachAsync(reporting, async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/returns/{Iso(today)}/{ods[i]}") { Content = JsonContent.Create(Return(i < AtOpel4)) };
            request.Headers.Authorization = tokens[i];
            var sent = Stopwatch.GetTimestamp();
            using var response = await app.Client.SendAsync(request);
            latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            if (i < AtOpel4)
            {
                answered[i] = started.Elapsed.TotalSeconds;
            }

            Expect(HttpStatusCode.OK, response);
        });
        var returnsDone = started.Elapsed;

        // The deadline, now: the round's own orchestration assesses.
        var deadline = started.Elapsed;
        await durable.RaiseEventAsync(instance, RoundOrchestration.WakeEvent, new RoundWake(AssessNow: true));
        await UntilAsync(async () => await rounds.LoadAsync(today, CancellationToken.None) is { Assessments: > 0 });
        var assessedAt = started.Elapsed;
        await UntilAsync(() => Task.FromResult(byReturn.Concat(byAssessment).All(w => w.Status is not null)));
        await stopWatching.CancelAsync();
        await watching;

        // Every partner assessed: the reporting ones with today's level, the silent ones carried forward at OPEL 4.
        var assessed = await rounds.ReadPartnersAsync(today, CancellationToken.None);
        assessed.Count.ShouldBe(partners);
        assessed.Count(p => !p.Missing).ShouldBe(reporting);
        assessed.Where(p => p.Missing).All(p => p.EffectiveLevel == 4).ShouldBe(true);
        var escalations = app.Get<EscalationStore>();
        foreach (var w in byReturn.Concat(byAssessment))
        {
            (await escalations.LoadAsync(w.Id, CancellationToken.None))!.State.Status.ShouldBe(EscalationStatus.Alerted);
        }

        // The round's instance in the task hub, once it waits again (it has checkpointed the assessment and the missing notices).
        await UntilAsync(async () => await StatusAsync(durable, instance) is { } s && Int(s, "assessments") > 0);
        var (historyRows, raised, activities) = await HistoryAsync(azurite, LocalHostApp.TaskHubName(app.Services), instance);

        // Where an assessment's time goes: the scan it reads (registry and returns) and the partner rows it writes, alone.
        var scan = Stopwatch.StartNew();
        (await app.Get<RoundReader>().ReadAsync(today, CancellationToken.None)).Expected.Count.ShouldBe(partners);
        var scanned = scan.Elapsed;
        var write = Stopwatch.StartNew();
        await rounds.WritePartnersAsync(today.AddDays(7), assessed, 1, CancellationToken.None); // a scratch day of this bench's own tables
        var written = write.Elapsed;

        var returnsPerSecond = reporting / returnsDone.TotalSeconds;
        var raw = await RawPerSecondAsync(app, Math.Max(partners, 2000));
        Array.Sort(latencies);
        var putToAlerted = byReturn.Select((w, i) => w.Inbox!.Value - answered[i]).Max();
        var deadlineToAlerted = byAssessment.Max(w => w.Inbox!.Value) - deadline.TotalSeconds;
        var deadlineToStatus = byAssessment.Max(w => w.Status!.Value) - deadline.TotalSeconds;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"| {partners} | {returnsPerSecond:0} | {raw:0} | {returnsPerSecond / raw:0.00} | {latencies[reporting / 2]:0} / {latencies[(int)(reporting * 0.99)]:0} ms | " +
            $"{putToAlerted:0.0} s | {(assessedAt - deadline).TotalSeconds:0.0} s | {deadlineToAlerted:0.0} s | {scanned.TotalSeconds:0.00} / {written.TotalSeconds:0.00} s | " +
            $"{historyRows} ({raised}) |");
        var note = string.Create(CultureInfo.InvariantCulture,
            $"    {partners} partners: registered (partner store) with {reporting} tokens in {registered.TotalSeconds:0.0} s; round opened (request notices, " +
            $"{(partners + RoundStore.Batch - 1) / RoundStore.Batch} batches) in {opened.TotalSeconds:0.0} s; {reporting} returns in {returnsDone.TotalSeconds:0.0} s; " +
            $"deadline -> the 5 escalations' instances show version >= 2 (custom status) {deadlineToStatus:0.0} s; round history: {activities} activities scheduled.");
        return (line, note);
    }

    /// <summary>An escalation watched until alerted: seconds (on the run's stopwatch) when its alert was in the inbox, and when its instance showed it notified.</summary>
    private sealed class Watched(string odsCode, string id)
    {
        public string OdsCode { get; } = odsCode;

        public string Id { get; } = id;

        public double? Inbox { get; set; }

        public double? Status { get; set; }
    }

    /// <summary>Polls the escalations (one at a time, every 50 ms) until each has its alert in its partner's inbox and its instance reports version 2.</summary>
    private static async Task WatchAsync(DurableTaskClient durable, InboxStore inbox, IReadOnlyList<Watched> watched, Stopwatch clock, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && watched.Any(w => w.Status is null))
        {
            foreach (var w in watched.Where(w => w.Inbox is null || w.Status is null))
            {
                if (w.Inbox is null)
                {
                    var page = await inbox.ReadAsync([Recipient.Org(w.OdsCode)], null, null, 50, CancellationToken.None);
                    if (page.Items.Any(i => i.Type == "EscalationAlert" && i.Data.GetValueOrDefault("escalationId") == w.Id))
                    {
                        w.Inbox = clock.Elapsed.TotalSeconds;
                    }
                }

                if (w.Status is null && await StatusAsync(durable, EscalationOrchestration.InstanceId(w.Id)) is { } status && Int(status, "version") >= 2)
                {
                    w.Status = clock.Elapsed.TotalSeconds;
                    w.Inbox ??= w.Status; // notified before its status says so
                }
            }

            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>An instance's custom status as JSON, or null when it has none (or no instance yet).</summary>
    private static async Task<JsonObject?> StatusAsync(DurableTaskClient durable, string instanceId) =>
        await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: true) is { SerializedCustomStatus: { Length: > 0 } status }
            ? JsonNode.Parse(status) as JsonObject
            : null;

    private static int? Int(JsonObject status, string name) =>
        status.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.GetValue<int>();

    /// <summary>The instance's rows in the Azure Storage provider's history table (sentinel excluded), its EventRaised rows, and its TaskScheduled rows.</summary>
    private static async Task<(int Rows, int Raised, int Activities)> HistoryAsync(AzuriteServer azurite, string hub, string instanceId)
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient($"{hub}History");
        int rows = 0, raised = 0, activities = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}"), select: ["EventType"]))
        {
            if (row.GetString("EventType") is not { } type)
            {
                continue; // the sentinel row
            }

            rows++;
            raised += type == "EventRaised" ? 1 : 0;
            activities += type == "TaskScheduled" ? 1 : 0;
        }

        return (rows, raised, activities);
    }

    /// <summary>A synthetic acute partner (one on-call contact, expected daily) registered through the app's partner store, as <c>PUT /api/partners</c> does.</summary>
    internal static Task RegisterAsync(TestApp app, string odsCode, int n) => app.Get<PartnerStore>().SetDetailsAsync(
        odsCode, new PartnerDetails($"Synthetic Trust {n} (bench)", Sector.Acute, 100, ExpectedDaily: true, [new Contact("Bench Oncall", null, "On-call director", 1)]),
        Actor.System("bench"), DateTimeOffset.UtcNow, null, CancellationToken.None);

    /// <summary>A calm acute return (computed OPEL 1), or one declared at OPEL 4 with a reason.</summary>
    internal static object Return(bool opel4, string? comment = null) => new
    {
        metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = 10, ["edFourHourPerformancePct"] = 85, ["edAttendanceVariationPct"] = 0,
            ["majorsResusOccupancyPct"] = 70, ["medianTimeToTreatmentMinutes"] = 45, ["edOver12HoursPct"] = 1,
            ["generalAcuteBedOccupancyPct"] = 88, ["escalationBedsPct"] = 0, ["noCriteriaToResidePct"] = 5,
        },
        declaredLevel = opel4 ? 4 : (int?)null,
        reason = opel4 ? "Synthetic: bench pressure" : null,
        comment,
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

    /// <summary>Runs <paramref name="body"/> for 0..count-1, 16 at a time.</summary>
    internal static async Task ForEachAsync(int count, Func<int, Task> body)
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
                throw new TimeoutException("The round did not get there within 10 minutes.");
            }

            await Task.Delay(20);
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

    private static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Real time moved by <see cref="Shift"/>; the app's timers and delays still run on real time.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
