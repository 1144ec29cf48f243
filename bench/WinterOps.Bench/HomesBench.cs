using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// How a placement request's latency grows with the care homes' history. A request ranks every
/// registered home, and listing the homes reads their head rows with one query over the care-home
/// partitions, which also walks every event, command and outbox row in them. For each size, the homes
/// are registered, then given <c>history</c> vacancy reports each (in process, through the command
/// handler), and 20 requests are timed one after another over real HTTP at each history.
/// </summary>
internal static class HomesBench
{
    public const int Requests = 20;

    public static async Task RunAsync(AzuriteServer azurite, IReadOnlyList<int> sizes, IReadOnlyList<int> histories)
    {
        Console.WriteLine("| homes | vacancy reports per home | rows in the care-home partitions | POST /api/placements p50 / p90 | GET /api/care-homes p50 | outbox sweep (whole table) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var homes in sizes)
        {
            await using var app = await TestApp.StartAsync(azurite, localTriggers: false, configure: b => b.Logging.ClearProviders());
            using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Bench Coordinator");
            using var team = await app.ClientAsAsync("DischargeTeam", ApiBench.ReferringOrg, "Bench Discharge Team");
            var handler = app.Get<CommandHandler>();
            var ids = Enumerable.Range(0, homes).Select(i => $"1-{8_100_000_000L + i}").ToArray();
            await ForEachAsync(homes, i => handler.HandleAsync(
                CareHomeWorkflow.Definition, ids[i], new CareHomeCommand.SetDetails(ids[i], new CareHomeDetails(
                    $"Synthetic Home {i:D3}", $"Locality {i % 10}", [BedType.Nursing], [], CqcRating.Good, [])),
                Context($"details-{ids[i]}")));
            var reports = 0;
            foreach (var history in histories)
            {
                for (; reports < history; reports++)
                {
                    var asOf = DateTimeOffset.UtcNow;
                    var r = reports;
                    await ForEachAsync(homes, i => handler.HandleAsync(
                        CareHomeWorkflow.Definition, ids[i], new CareHomeCommand.ReportVacancies(asOf, new Dictionary<BedType, BedCount>
                        {
                            [BedType.Nursing] = new(1000, 100 + (r % 10), 0, 900 - (r % 10)),
                        }), Context($"vacancies-{ids[i]}-{r}")));
                }

                var from = CareHomeWorkflow.Name + "-";
                var rows = 0;
                await foreach (var _ in app.Get<StorageAccount>().Table(StorageNames.StreamsTable)
                    .QueryAsync<TableEntity>($"PartitionKey ge '{from}' and PartitionKey lt '{from[..^1]}.'", select: ["PartitionKey"]))
                {
                    rows++;
                }
                var request = new List<double>();
                var list = new List<double>();
                for (var n = 0; n < Requests; n++)
                {
                    request.Add(await TimeAsync(async () => Expect(HttpStatusCode.Created, await team.PostAsJsonAsync("/api/placements", Placement(n)))));
                    list.Add(await TimeAsync(async () => Expect(HttpStatusCode.OK, await coordinator.GetAsync("/api/care-homes"))));
                }

                request.Sort();
                list.Sort();
                var sweep = await TimeAsync(() => app.Get<OutboxSweeper>().SweepAsync(CancellationToken.None));
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {homes} | {history} | {rows} | {request[Requests / 2]:0} / {request[Requests * 9 / 10]:0} ms | {list[Requests / 2]:0} ms | {sweep:0} ms |"));
            }
        }
    }

    private static CommandContext Context(string id) => new($"bench-{id}", Actor.System("bench"), DateTimeOffset.UtcNow);

    private static object Placement(int n) => new
    {
        patientRef = $"BENCH-{n:D6}",
        referringOrg = ApiBench.ReferringOrg,
        pathway = "P3",
        bedType = "nursing",
        fundingRoute = "chc",
        preferredLocalities = new[] { $"Locality {n % 10}" },
        requiredBy = London.Today(DateTimeOffset.UtcNow).AddDays(3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        clinicalFlags = Array.Empty<string>(),
    };

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var started = Stopwatch.GetTimestamp();
        await action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static void Expect(HttpStatusCode expected, HttpResponseMessage response)
    {
        using (response)
        {
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode}, expected {(int)expected}");
            }
        }
    }

    private static async Task ForEachAsync(int count, Func<int, Task> body)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                await body(i);
            }
        }));
    }
}
