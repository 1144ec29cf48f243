using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Opel;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// The real WinterOps app (in this process, on a loopback port, over real HTTP) with synthetic care homes and partners,
/// and four actions as clients send them: a discharge team requesting a placement, a home's broker accepting its
/// offer, a partner's daily OPEL return, and an executive acknowledging an escalation. One instance per concurrency
/// level: its own storage prefix and task hub (empty tables and queues), its own homes, partners and escalations.
/// </summary>
internal sealed class ApiBench : IAsyncDisposable
{
    public const int Homes = 30;
    public const string ReferringOrg = "RZ1";

    /// <summary>Partners that send calm returns: 64 of them x the 16 days a return may be for = 1,024 new returns before any is revised.</summary>
    public const int Reporters = 64;

    /// <summary>The days a return may be for: tomorrow back to 14 days ago.</summary>
    private const int ReturnDays = ReturnEndpoints.AmendmentWindowDays + 2;

    // Synthetic CQC location ids 1-80000000nn; one locality per home.
    private static readonly string[] HomeIds = [.. Enumerable.Range(0, Homes).Select(i => $"1-{8_000_000_000L + i}")];

    private static readonly string[] NursingOnly = ["nursing"];

    private readonly TestApp _app;
    private readonly HttpClient[] _clients;
    private readonly AuthenticationHeaderValue _team;
    private readonly Dictionary<string, AuthenticationHeaderValue> _brokers;
    private readonly ConcurrentQueue<(string PlacementId, string Home)> _toAccept = new();
    private readonly ConcurrentQueue<string> _toAcknowledge = new();
    private AuthenticationHeaderValue[] _reporters = [];
    private AuthenticationHeaderValue? _executive;
    private long _requested;
    private long _returned;

    private ApiBench(TestApp app, HttpClient[] clients, AuthenticationHeaderValue team, Dictionary<string, AuthenticationHeaderValue> brokers)
    {
        _app = app;
        _clients = clients;
        _team = team;
        _brokers = brokers;
    }

    /// <summary>Starts the app (logging off, local triggers off) and registers the homes with their vacancies, and the reporting partners.</summary>
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
        var bench = new ApiBench(app, clients, team.DefaultRequestHeaders.Authorization!, brokers);
        bench._reporters = await PartnersAsync(app, "R", Reporters);
        using var executive = await app.ClientAsAsync("Executive", "QZZ", "Bench Executive");
        bench._executive = executive.DefaultRequestHeaders.Authorization!;
        return bench;
    }

    /// <summary>
    /// Partners <c>{prefix}0001</c>... registered through the app's partner store (as <c>PUT /api/partners</c> does; not
    /// what is measured), each with one on-call contact, and a Partner token for each.
    /// </summary>
    private static async Task<AuthenticationHeaderValue[]> PartnersAsync(TestApp app, string prefix, int count)
    {
        var tokens = new AuthenticationHeaderValue[count];
        await OpelBench.ForEachAsync(count, async i =>
        {
            var ods = $"{prefix}{i + 1:D4}";
            await OpelBench.RegisterAsync(app, ods, i);
            using var partner = await app.ClientAsAsync("Partner", ods, $"Bench Reporter {ods}");
            tokens[i] = partner.DefaultRequestHeaders.Authorization!;
        });
        return tokens;
    }

    /// <summary>
    /// The escalations to acknowledge, made before the case runs (not measured): <paramref name="count"/> more partners
    /// (<c>E0001</c>...) each return OPEL 4 for today with a reason, 16 at a time, which raises rule 2 (partnerAtOpel4) at
    /// the PUT; then this waits until every escalation's orchestration has alerted and waits for an acknowledgement.
    /// </summary>
    public async Task RaiseEscalationsAsync(int count)
    {
        var tokens = await PartnersAsync(_app, "E", count);
        var today = London.Today(DateTimeOffset.UtcNow);
        var ids = new string[count];
        await OpelBench.ForEachAsync(count, async i =>
        {
            var ods = $"E{i + 1:D4}";
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/returns/{Iso(today)}/{ods}") { Content = JsonContent.Create(OpelBench.Return(opel4: true)) };
            request.Headers.Authorization = tokens[i];
            await Expect(HttpStatusCode.OK, await _app.Client.SendAsync(request));
            ids[i] = EscalationWorkflow.Key(today, EscalationRule.PartnerAtOpel4, ods);
        });

        // Waiting: the orchestration sets its custom status when it waits (after the first alert is notified).
        var durable = _app.Get<IDurableTaskClientProvider>().GetClient();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var id in ids)
        {
            while (await durable.GetInstanceAsync(EscalationOrchestration.InstanceId(id), getInputsAndOutputs: true) is not { SerializedCustomStatus.Length: > 0 })
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"Setup: escalation {id} not waiting for acknowledgement within 2 minutes.");
                }

                await Task.Delay(50);
            }

            _toAcknowledge.Enqueue(id);
        }
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

    /// <summary>
    /// PUT /api/returns/{date}/{ods} as the partner: a calm acute return (computed OPEL 1) from reporter n mod 64, for
    /// tomorrow, today, ... back to 14 days ago in turn, with a comment naming n (so that a return sent again, after the
    /// first 1,024, is a revision and not a repeat that changes nothing). The app reads the partner, commits the return
    /// (its row and a revision row) and answers with the scores. No Durable work: rule 2 raises nothing below OPEL 4, and
    /// no round is open. Expects 200 and effective level 1.
    /// </summary>
    public async Task<Outcome> SubmitReturnAsync(int worker, Action<string> failure)
    {
        var n = Interlocked.Increment(ref _returned) - 1;
        var reporter = (int)(n % Reporters);
        var day = London.Today(DateTimeOffset.UtcNow).AddDays(1 - (int)(n / Reporters % ReturnDays));
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/returns/{Iso(day)}/R{reporter + 1:D4}")
        {
            Content = JsonContent.Create(OpelBench.Return(opel4: false, comment: $"bench {n}")),
        };
        request.Headers.Authorization = _reporters[reporter];
        return await SendAsync(worker, request, HttpStatusCode.OK, failure, r =>
            r.GetProperty("effectiveLevel").GetInt32() == 1 ? null : $"effective level {r.GetProperty("effectiveLevel")}");
    }

    /// <summary>
    /// POST /api/escalations/{id}/acknowledge as an executive, for the next escalation made by
    /// <see cref="RaiseEscalationsAsync"/>. The app stores the action, raises it to the escalation's orchestration, and
    /// answers once its DecideEscalation activity has recorded the outcome (NotifyEscalation follows, off the path).
    /// Expects 200 and acknowledged; 202 (no outcome within Placements:DecisionWait) counts as failed.
    /// </summary>
    public async Task<Outcome> AcknowledgeAsync(int worker, Action<string> failure)
    {
        if (!_toAcknowledge.TryDequeue(out var id))
        {
            return Outcome.NoWork;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/escalations/{id}/acknowledge") { Content = JsonContent.Create(new { note = "Bench: on it" }) };
        request.Headers.Authorization = _executive;
        return await SendAsync(worker, request, HttpStatusCode.OK, failure, e =>
            e.GetProperty("status").GetString() == "acknowledged" ? null : $"status {e.GetProperty("status")}");
    }

    /// <summary>Placements made and not (yet) accepted.</summary>
    public int WaitingToBeAccepted => _toAccept.Count;

    /// <summary>Escalations raised and not (yet) acknowledged.</summary>
    public int WaitingToBeAcknowledged => _toAcknowledge.Count;

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
