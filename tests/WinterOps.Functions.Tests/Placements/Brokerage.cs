using Azure;
using Microsoft.DurableTask.Client;
using WinterOps.Functions.Placements;
using WinterOps.LocalHost;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>
/// One running app with synthetic care homes and a referring discharge team, and the calls the
/// placement tests make. All data is synthetic: CQC ids 1-10000000nn, patient refs TEST-nnnn, NHS
/// numbers from the 999 test range with a valid Modulus 11 check digit.
/// </summary>
public sealed class Brokerage : IAsyncDisposable
{
    public const string ReferringOrg = "RZ1";
    public const string TeamName = "Dana Discharge (test)";
    public const string CoordinatorName = "Casey Coordinator (test)";

    private readonly Dictionary<string, HttpClient> _brokers = [];
    private readonly SemaphoreSlim _brokersLock = new(1, 1);
    private int _patients;

    private Brokerage(TestApp app, HttpClient coordinator, HttpClient team)
    {
        App = app;
        Coordinator = coordinator;
        Team = team;
    }

    public TestApp App { get; }

    /// <summary>The coordination centre (org QZZ).</summary>
    public HttpClient Coordinator { get; }

    /// <summary>The referring discharge team of <see cref="ReferringOrg"/>.</summary>
    public HttpClient Team { get; }

    public DateTimeOffset Now => App.Get<TimeProvider>().GetUtcNow();

    public DateOnly Today => London.Today(Now);

    public static async Task<Brokerage> StartAsync(
        bool localTriggers = false, TimeSpan? responseWindow = null, TimeProvider? time = null, Action<WebApplicationBuilder>? configure = null,
        TimeSpan? decisionWait = null, string? prefix = null)
    {
        var app = await TestApp.StartAsync(
            localTriggers: localTriggers,
            configure: b =>
            {
                // The tests are about the decisions, not how fast they come on a busy machine: wait long by default.
                b.Configuration["Placements:DecisionWait"] = (decisionWait ?? TimeSpan.FromSeconds(60)).ToString("c", CultureInfo.InvariantCulture);

                if (responseWindow is { } window)
                {
                    b.Configuration["Placements:ResponseWindow"] = window.ToString("c", CultureInfo.InvariantCulture);
                }

                configure?.Invoke(b);
            },
            time: time,
            prefix: prefix);
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", CoordinatorName);
        var team = await app.ClientAsAsync("DischargeTeam", ReferringOrg, TeamName);
        return new Brokerage(app, coordinator, team);
    }

    public static string Cqc(int n) => $"1-{1000000000 + n}";

    public static string BrokerName(string cqcLocationId) => $"Broker of {cqcLocationId}";

    /// <summary>A synthetic NHS number (999 test range) with a valid Modulus 11 check digit.</summary>
    public static string NhsNumber(int seed)
    {
        for (var n = seed; ; n++)
        {
            var first9 = "999" + (n % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
            var check = CheckDigit(first9);
            if (check is not null)
            {
                return first9 + check;
            }
        }
    }

    /// <summary>A 10-digit number whose last digit is not the Modulus 11 check digit.</summary>
    public static string NhsNumberWithBadCheckDigit(int seed)
    {
        var valid = NhsNumber(seed);
        var wrong = (valid[9] - '0' + 1) % 10;
        return valid[..9] + wrong.ToString(CultureInfo.InvariantCulture);
    }

    private static char? CheckDigit(string first9)
    {
        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (first9[i] - '0') * (10 - i);
        }

        var check = 11 - (sum % 11);
        return check switch { 11 => '0', 10 => null, _ => (char)('0' + check) };
    }

    /// <summary>The broker of one home (a client whose organisation is the home's CQC location id).</summary>
    public async Task<HttpClient> BrokerAsync(string cqcLocationId)
    {
        await _brokersLock.WaitAsync();
        try
        {
            if (!_brokers.TryGetValue(cqcLocationId, out var client))
            {
                client = await App.ClientAsAsync("Broker", cqcLocationId, BrokerName(cqcLocationId));
                _brokers[cqcLocationId] = client;
            }

            return client;
        }
        finally
        {
            _brokersLock.Release();
        }
    }

    public static object HomeBody(
        string name, string locality, string cqcRating, string[] bedTypes, string[]? clinicalExclusions = null, string? brokerEntraUserId = null) => new
    {
        name,
        locality,
        bedTypes,
        clinicalExclusions = clinicalExclusions ?? [],
        cqcRating,
        brokerContacts = new[] { new { name = "Robin Broker (test)", entraUserId = brokerEntraUserId, phone = "+44 1234 567890" } },
    };

    public static object VacanciesBody(DateTimeOffset asOf, int maxCapacity, int occupied, int vacantReserved, int vacantAccepting, string bedType = "nursing") => new
    {
        asOf,
        beds = new Dictionary<string, object> { [bedType] = new { maxCapacity, occupied, vacantReserved, vacantAccepting } },
    };

    /// <summary>
    /// Registers a home as the Coordinator, then reports its vacancies as the home's Broker (as of now,
    /// or <paramref name="vacanciesAge"/> ago).
    /// Returns the CQC location id.
    /// </summary>
    public async Task<string> AddHomeAsync(
        string cqcLocationId, string locality = "Bedmoor", string cqcRating = "good", int vacantAccepting = 2, int maxCapacity = 20,
        int occupied = 10, int vacantReserved = 0, string[]? bedTypes = null, string[]? clinicalExclusions = null, TimeSpan vacanciesAge = default,
        string? brokerEntraUserId = null)
    {
        bedTypes ??= ["nursing"];
        var put = await Coordinator.PutAsJsonAsync(
            $"/api/care-homes/{cqcLocationId}", HomeBody($"Synthetic Home {cqcLocationId}", locality, cqcRating, bedTypes, clinicalExclusions, brokerEntraUserId));
        put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        var broker = await BrokerAsync(cqcLocationId);
        var vacancies = await broker.PutAsJsonAsync(
            $"/api/care-homes/{cqcLocationId}/vacancies",
            VacanciesBody(Now - vacanciesAge, maxCapacity, occupied, vacantReserved, vacantAccepting, bedTypes[0]));
        vacancies.StatusCode.ShouldBe(HttpStatusCode.OK, await vacancies.Content.ReadAsStringAsync());
        return cqcLocationId;
    }

    /// <summary>A valid placement request body (every field, camelCase), for tests to change or remove fields.</summary>
    public Dictionary<string, object?> RequestBody(DateOnly? requiredBy = null, string[]? preferredLocalities = null, string[]? clinicalFlags = null)
    {
        var n = Interlocked.Increment(ref _patients);
        return new Dictionary<string, object?>
        {
            ["patientRef"] = $"TEST-{n:D4}",
            ["nhsNumber"] = NhsNumber(n),
            ["referringOrg"] = ReferringOrg,
            ["pathway"] = "P2",
            ["bedType"] = "nursing",
            ["fundingRoute"] = "chc",
            ["preferredLocalities"] = preferredLocalities ?? ["Bedmoor", "Ouseford"],
            ["requiredBy"] = Iso(requiredBy ?? Today.AddDays(3)),
            ["needsSummary"] = "Synthetic: hoist transfer, two carers at night.",
            ["clinicalFlags"] = clinicalFlags ?? [],
        };
    }

    public Task<HttpResponseMessage> PostRequestAsync(object body, HttpClient? caller = null) =>
        (caller ?? Team).PostAsJsonAsync("/api/placements", body);

    /// <summary>Requests a placement as the discharge team; expects 201 and returns the placement.</summary>
    public async Task<JsonElement> RequestAsync(Dictionary<string, object?>? body = null)
    {
        var response = await PostRequestAsync(body ?? RequestBody());
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<JsonElement> GetPlacementAsync(string placementId, HttpClient? caller = null) =>
        await Http.JsonAsync(await (caller ?? Coordinator).GetAsync($"/api/placements/{placementId}"));

    public async Task<JsonElement> HistoryAsync(string placementId, HttpClient? caller = null) =>
        await Http.JsonAsync(await (caller ?? Coordinator).GetAsync($"/api/placements/{placementId}/history"));

    public async Task<JsonElement> GetHomeAsync(string cqcLocationId) =>
        await Http.JsonAsync(await Coordinator.GetAsync($"/api/care-homes/{cqcLocationId}"));

    /// <summary>The home's nursing figures: maxCapacity, occupied, vacantReserved, vacantAccepting, heldByWinterOps, free.</summary>
    public async Task<JsonElement> NursingBedsAsync(string cqcLocationId) =>
        (await GetHomeAsync(cqcLocationId)).GetProperty("beds").GetProperty("nursing");

    public async Task<int> HeldAsync(string cqcLocationId) =>
        (await NursingBedsAsync(cqcLocationId)).GetProperty("heldByWinterOps").GetInt32();

    public async Task<HttpResponseMessage> AcceptAsync(string placementId, string cqcLocationId, DateOnly? admissionDate = null, HttpClient? caller = null) =>
        await (caller ?? await BrokerAsync(cqcLocationId)).PostAsJsonAsync(
            $"/api/placements/{placementId}/offers/{cqcLocationId}/accept",
            new { admissionDate = Iso(admissionDate ?? Today.AddDays(1)), contactName = "Morgan Manager (test)" });

    public async Task<HttpResponseMessage> DeclineAsync(string placementId, string cqcLocationId, string reason = "noBedAvailable", string? comment = null) =>
        await (await BrokerAsync(cqcLocationId)).PostAsJsonAsync(
            $"/api/placements/{placementId}/offers/{cqcLocationId}/decline", new { reason, comment });

    public async Task<HttpResponseMessage> CancelAsync(string placementId, string reason = "Patient's needs changed (test).", HttpClient? caller = null) =>
        await (caller ?? Team).PostAsJsonAsync($"/api/placements/{placementId}/cancel", new { reason });

    public async Task<HttpResponseMessage> AdmittedAsync(string placementId, string cqcLocationId, DateOnly admittedOn) =>
        await (await BrokerAsync(cqcLocationId)).PostAsJsonAsync($"/api/placements/{placementId}/admitted", new { admittedOn = Iso(admittedOn) });

    public static async Task<JsonElement> InboxAsync(HttpClient caller) => await Http.JsonAsync(await caller.GetAsync("/api/inbox?limit=200"));

    /// <summary>
    /// Waits until the placement's orchestration has acted on every audited event and told people of it: its custom
    /// status names the placement's version (or it has completed). Returns that version.
    /// </summary>
    public async Task<long> SettledAsync(string placementId)
    {
        var client = App.Get<IDurableTaskClientProvider>().GetClient();
        var settled = await EventuallyAsync(
            async () =>
            {
                var version = (await App.Get<PlacementStore>().LoadAsync(placementId, CancellationToken.None))!.Version;
                var instance = await client.GetInstanceAsync(placementId, getInputsAndOutputs: true);
                var shown = instance?.SerializedCustomStatus is { } status && JsonDocument.Parse(status).RootElement is { ValueKind: JsonValueKind.Object } shows
                    ? shows.GetProperty("version").GetInt64()
                    : -1;
                return (Version: version, Settled: shown == version);
            },
            s => s.Settled, $"placement {placementId} to settle");
        return settled.Version;
    }

    /// <summary>
    /// Rows in the tables a placement or a care home writes (placements, care homes) and
    /// in the task hub's Instances table: any stored change or started orchestration adds rows.
    /// </summary>
    public async Task<int> StoredRowsAsync()
    {
        var storage = App.Get<StorageAccount>();
        var hub = LocalHostApp.TaskHubName(App.Services);
        TableClient[] tables =
        [
            storage.Table(StorageNames.PlacementsTable), storage.Table(StorageNames.CareHomesTable),
            new TableServiceClient(AzuriteServerConnection(App)).GetTableClient(hub + "Instances"),
        ];
        var rows = 0;
        foreach (var table in tables)
        {
            try
            {
                await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
                {
                    rows++;
                }
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // not created yet: no rows
            }
        }

        return rows;
    }

    private static string AzuriteServerConnection(TestApp app) => app.Get<Microsoft.Extensions.Configuration.IConfiguration>()["AzureWebJobsStorage"]!;

    /// <summary>Polls <paramref name="read"/> every 100 ms until <paramref name="done"/> holds, for at most <paramref name="limit"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what}; last value: {value}");
            }

            await Task.Delay(100);
        }
    }

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Id(JsonElement placement) => placement.GetProperty("placementId").GetString()!;

    public static string Status(JsonElement element) => element.GetProperty("status").GetString()!;

    public static IEnumerable<JsonElement> Offers(JsonElement placement) => placement.GetProperty("offers").EnumerateArray();

    public static string[] OfferedHomes(JsonElement placement, int? round = null) =>
        Offers(placement).Where(o => round is null || o.GetProperty("round").GetInt32() == round)
            .Select(o => o.GetProperty("cqcLocationId").GetString()!).Order(StringComparer.Ordinal).ToArray();

    public static string OfferStatus(JsonElement placement, string cqcLocationId) =>
        Offers(placement).Single(o => o.GetProperty("cqcLocationId").GetString() == cqcLocationId).GetProperty("status").GetString()!;

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _brokers.Values)
        {
            client.Dispose();
        }

        Coordinator.Dispose();
        Team.Dispose();
        _brokersLock.Dispose();
        await App.DisposeAsync();
    }
}
