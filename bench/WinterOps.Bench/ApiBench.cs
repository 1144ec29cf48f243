using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WinterOps.Core;
using WinterOps.Functions.CareHomes;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// The real WinterOps app (in this process, on a loopback port, over real HTTP) with synthetic care
/// homes, and the two placement operations as clients send them: a discharge team requesting a
/// placement, and a home's broker accepting its offer. One instance per concurrency level: its own
/// storage prefix (empty tables), its own homes, its own placements to accept.
/// </summary>
internal sealed class ApiBench : IAsyncDisposable
{
    public const int Homes = 30;
    public const string ReferringOrg = "RZ1";

    // Synthetic CQC location ids 1-80000000nn; one locality per home.
    private static readonly string[] HomeIds = [.. Enumerable.Range(0, Homes).Select(i => $"1-{8_000_000_000L + i}")];

    private static readonly string[] NursingOnly = ["nursing"];

    private readonly TestApp _app;
    private readonly HttpClient[] _clients;
    private readonly AuthenticationHeaderValue _team;
    private readonly Dictionary<string, AuthenticationHeaderValue> _brokers;
    private readonly ConcurrentQueue<(string PlacementId, string Home)> _toAccept = new();
    private long _requested;

    private ApiBench(TestApp app, HttpClient[] clients, AuthenticationHeaderValue team, Dictionary<string, AuthenticationHeaderValue> brokers)
    {
        _app = app;
        _clients = clients;
        _team = team;
        _brokers = brokers;
    }

    /// <summary>Starts the app (logging off, local triggers off) and registers the homes with their vacancies.</summary>
    public static async Task<ApiBench> StartAsync(AzuriteServer azurite, int concurrency)
    {
        var app = await TestApp.StartAsync(azurite, localTriggers: false, configure: b => b.Logging.ClearProviders());
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ", "Bench Coordinator");
        var brokers = new Dictionary<string, AuthenticationHeaderValue>();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Homes; i++)
        {
            var id = HomeIds[i];
            await Expect(HttpStatusCode.Created, await coordinator.PutAsJsonAsync($"/api/care-homes/{id}", new
            {
                name = $"Synthetic Home {i:D2}",
                locality = Locality(i),
                bedTypes = NursingOnly,
                clinicalExclusions = Array.Empty<string>(),
                cqcRating = "good",
                brokerContacts = Array.Empty<object>(),
            }));
            using var broker = await app.ClientAsAsync("Broker", id, "Bench Broker");
            brokers[id] = broker.DefaultRequestHeaders.Authorization!;
            await Expect(HttpStatusCode.OK, await broker.PutAsJsonAsync($"/api/care-homes/{id}/vacancies", new
            {
                asOf = now,
                beds = new { nursing = new { maxCapacity = 1000, occupied = 100, vacantReserved = 0, vacantAccepting = 900 } },
            }));
        }

        coordinator.Dispose();
        using var team = await app.ClientAsAsync("DischargeTeam", ReferringOrg, "Bench Discharge Team");
        // One HttpClient (so one keep-alive connection) per worker; each request carries its caller's token.
        var clients = Enumerable.Range(0, concurrency).Select(_ => new HttpClient { BaseAddress = app.Client.BaseAddress }).ToArray();
        return new ApiBench(app, clients, team.DefaultRequestHeaders.Authorization!, brokers);
    }

    /// <summary>
    /// POST /api/placements as the discharge team: a synthetic patient who prefers the locality of home
    /// n mod 30, so first offers (and so acceptances) spread evenly over the homes. The app stores the request,
    /// starts the Placement orchestration and answers once its OpenPlacement activity has made the round-1 offers
    /// (or 202 past Placements:DecisionWait). Expects 201, awaitingResponses, and open round-1 offers; anything else
    /// (202 included) counts as failed. The placement then waits to be accepted.
    /// </summary>
    public async Task<Outcome> RequestPlacementAsync(int worker, Action<string> failure)
    {
        var n = Interlocked.Increment(ref _requested);
        var today = London.Today(DateTimeOffset.UtcNow);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/placements")
        {
            Content = JsonContent.Create(new
            {
                patientRef = $"BENCH-{n:D6}",
                referringOrg = ReferringOrg,
                pathway = "P3",
                bedType = "nursing",
                fundingRoute = "chc",
                preferredLocalities = new[] { Locality((int)(n % Homes)) },
                requiredBy = Iso(today.AddDays(3)),
                needsSummary = "Synthetic: hoist transfer, two carers at night.",
                clinicalFlags = Array.Empty<string>(),
            }),
        };
        request.Headers.Authorization = _team;
        return await SendAsync(worker, request, HttpStatusCode.Created, failure, placement =>
        {
            var offers = placement.GetProperty("offers");
            if (placement.GetProperty("status").GetString() != "awaitingResponses" || offers.GetArrayLength() == 0)
            {
                return $"status {placement.GetProperty("status")}, {offers.GetArrayLength()} offers";
            }

            foreach (var offer in offers.EnumerateArray())
            {
                if (offer.GetProperty("status").GetString() != "open" || offer.GetProperty("round").GetInt32() != 1)
                {
                    return $"offer {offer}";
                }
            }

            _toAccept.Enqueue((placement.GetProperty("placementId").GetString()!, offers[0].GetProperty("cqcLocationId").GetString()!));
            return null;
        });
    }

    /// <summary>
    /// POST .../offers/{first offered home}/accept as that home's broker, for the next placement made by
    /// <see cref="RequestPlacementAsync"/>. The app raises the answer to the orchestration and waits (bounded) for its
    /// decision: ReserveBed, then DecideResponse. Expects 200 and booked with that home; 202 (no decision in time) and
    /// 409 (refused) count as failed, with a note.
    /// </summary>
    public async Task<Outcome> AcceptAsync(int worker, Action<string> failure)
    {
        if (!_toAccept.TryDequeue(out var next))
        {
            return Outcome.NoWork;
        }

        var (placementId, home) = next;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/placements/{placementId}/offers/{home}/accept")
        {
            Content = JsonContent.Create(new { admissionDate = Iso(London.Today(DateTimeOffset.UtcNow).AddDays(1)), contactName = "Bench Broker" }),
        };
        request.Headers.Authorization = _brokers[home];
        return await SendAsync(worker, request, HttpStatusCode.OK, failure, placement =>
            placement.GetProperty("status").GetString() == "booked"
            && placement.GetProperty("booking").GetProperty("cqcLocationId").GetString() == home
                ? null
                : $"status {placement.GetProperty("status")}, booking {placement.GetProperty("booking")}");
    }

    /// <summary>Placements made and not (yet) accepted.</summary>
    public int WaitingToBeAccepted => _toAccept.Count;

    /// <summary>
    /// What every placement request reads in full (its OpenPlacement activity ranks all homes): the <c>home</c> rows of
    /// table <c>carehomes</c>, through <see cref="CareHomeStore.LoadAllAsync"/>, with the reservations they hold.
    /// </summary>
    public async Task<(int Homes, long StateChars, int Reservations)> CareHomeRowsAsync()
    {
        var (homes, chars, reservations) = (0, 0L, 0);
        await foreach (var stored in _app.Get<CareHomeStore>().LoadAllAsync(CancellationToken.None))
        {
            homes++;
            chars += JsonSerializer.Serialize(stored.Home, WorkflowJson.Options).Length; // as the store writes its State column
            reservations += stored.Home.Reservations.Count;
        }

        return (homes, chars, reservations);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _app.DisposeAsync();
    }

    private async Task<Outcome> SendAsync(
        int worker, HttpRequestMessage request, HttpStatusCode expected, Action<string> failure, Func<JsonElement, string?> check)
    {
        try
        {
            using var response = await _clients[worker].SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != expected)
            {
                var why = response.StatusCode switch
                {
                    HttpStatusCode.Accepted => " (no decision within Placements:DecisionWait: the orchestration was too slow)",
                    HttpStatusCode.Conflict => " (refused: the orchestration or the rules said no)",
                    _ => "",
                };
                failure($"{(int)response.StatusCode}{why} {Shorten(text)}");
                return Outcome.Failed;
            }

            using var json = JsonDocument.Parse(text);
            var wrong = check(json.RootElement);
            if (wrong is not null)
            {
                failure(Shorten(wrong));
                return Outcome.Failed;
            }

            return Outcome.Ok;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            failure($"{e.GetType().Name}: {Shorten(e.Message)}");
            return Outcome.Failed;
        }
    }

    private static async Task Expect(HttpStatusCode expected, HttpResponseMessage response)
    {
        using (response)
        {
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException(
                    $"Setup: {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} returned {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    private static string Locality(int home) => $"Locality {home:D2}";

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
