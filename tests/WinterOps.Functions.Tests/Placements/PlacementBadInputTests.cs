using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>
/// One app for every bad-input case: three offered homes, one not offered, one open placement. After
/// each case nothing has been stored (no new rows in the event store, the placement unchanged).
/// </summary>
public sealed class BadInputApp : IAsyncLifetime
{
    public Brokerage B { get; private set; } = null!;

    /// <summary>An offered home.</summary>
    public string Home { get; private set; } = "";

    /// <summary>Another offered home.</summary>
    public string OtherHome { get; private set; } = "";

    /// <summary>A home the placement was not offered to.</summary>
    public string NotOffered { get; private set; } = "";

    public string PlacementId { get; private set; } = "";

    public long PlacementVersion { get; private set; }

    public int Rows { get; private set; }

    public HttpClient Partner { get; private set; } = null!;

    public HttpClient OtherTeam { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        B = await StartAsync();
        Home = await B.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        OtherHome = await B.AddHomeAsync(Cqc(2), cqcRating: "outstanding");
        await B.AddHomeAsync(Cqc(3), cqcRating: "outstanding");
        NotOffered = await B.AddHomeAsync(Cqc(4), cqcRating: "inadequate");
        var placement = await B.RequestAsync();
        PlacementId = Id(placement);
        PlacementVersion = placement.GetProperty("version").GetInt64();
        OfferedHomes(placement).ShouldNotContain(NotOffered);
        Partner = await B.App.ClientAsAsync("Partner", "RZ1", "Pat Partner (test)");
        OtherTeam = await B.App.ClientAsAsync("DischargeTeam", "RZ2", "Other Team (test)");
        Rows = await B.StoredRowsAsync();
    }

    public async Task DisposeAsync()
    {
        Partner.Dispose();
        OtherTeam.Dispose();
        await B.DisposeAsync();
    }
}

public class PlacementBadInputTests(BadInputApp app) : IClassFixture<BadInputApp>
{
    private sealed record Case(Func<BadInputApp, Task<HttpResponseMessage>> Send, HttpStatusCode Status, string? Field = null);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Requesting a placement
        ["request: invalid NHS number (bad check digit)"] = Request(r => r["nhsNumber"] = NhsNumberWithBadCheckDigit(42), HttpStatusCode.BadRequest, "nhsNumber"),
        ["request: NHS number of 9 digits"] = Request(r => r["nhsNumber"] = "999000004", HttpStatusCode.BadRequest, "nhsNumber"),
        ["request: unknown bed type"] = Request(r => r["bedType"] = "nursingHome", HttpStatusCode.BadRequest, "bedType"),
        ["request: unknown pathway"] = Request(r => r["pathway"] = "P1", HttpStatusCode.BadRequest, "pathway"),
        ["request: unknown funding route"] = Request(r => r["fundingRoute"] = "insurance", HttpStatusCode.BadRequest, "fundingRoute"),
        ["request: malformed requiredBy"] = Request(r => r["requiredBy"] = "25/12/2026", HttpStatusCode.BadRequest, "requiredBy"),
        ["request: requiredBy in the past"] = RequestAt((a, r) => r["requiredBy"] = Iso(a.B.Today.AddDays(-1)), HttpStatusCode.BadRequest, "requiredBy"),
        ["request: requiredBy over a year ahead"] = RequestAt((a, r) => r["requiredBy"] = Iso(a.B.Today.AddDays(400)), HttpStatusCode.BadRequest, "requiredBy"),
        ["request: missing patientRef"] = Request(r => r.Remove("patientRef"), HttpStatusCode.BadRequest, "patientRef"),
        ["request: patientRef that is a name"] = Request(r => r["patientRef"] = "Jane Doe", HttpStatusCode.BadRequest, "patientRef"),
        ["request: 200 KB needsSummary"] = Request(r => r["needsSummary"] = new string('x', 200 * 1024), HttpStatusCode.BadRequest, "needsSummary"),
        ["request: unknown clinical flag"] = Request(r => r["clinicalFlags"] = new[] { "oxygen", "wings" }, HttpStatusCode.BadRequest, "clinicalFlags"),
        ["request: malformed referringOrg"] = Request(r => r["referringOrg"] = "rz-1", HttpStatusCode.BadRequest, "referringOrg"),
        ["request: another organisation's referral"] = Request(r => r["referringOrg"] = "RZ2", HttpStatusCode.Forbidden),
        ["request: unknown field"] = Request(r => r["patientName"] = "Jane Doe", HttpStatusCode.BadRequest),
        ["request: a number for a string"] = Request(r => r["pathway"] = 2, HttpStatusCode.BadRequest),
        ["request: malformed JSON"] = new(a => a.B.Team.PostAsync("/api/placements", Http.Json("{\"patientRef\": \"TEST-9\",")), HttpStatusCode.BadRequest),
        ["request: a JSON array"] = new(a => a.B.Team.PostAsync("/api/placements", Http.Json("[]")), HttpStatusCode.BadRequest),
        ["request: an empty body"] = new(a => a.B.Team.PostAsync("/api/placements", Http.Json("")), HttpStatusCode.BadRequest),
        ["request: wrong content type"] = new(
            a => a.B.Team.PostAsync("/api/placements", new StringContent(JsonSerializer.Serialize(a.B.RequestBody()), Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType),
        ["request: by a Broker"] = new(async a => await a.B.PostRequestAsync(a.B.RequestBody(), await a.B.BrokerAsync(a.Home)), HttpStatusCode.Forbidden),
        ["request: no token"] = new(a => a.B.PostRequestAsync(a.B.RequestBody(), a.B.App.Client), HttpStatusCode.Unauthorized),

        // Reading
        ["read: unknown placement id"] = new(a => a.B.Coordinator.GetAsync("/api/placements/PL000000000000"), HttpStatusCode.NotFound),
        ["read: placement id of the wrong shape"] = new(a => a.B.Coordinator.GetAsync("/api/placements/not-an-id"), HttpStatusCode.NotFound),
        ["read: list with an unknown status"] = new(a => a.B.Coordinator.GetAsync("/api/placements?status=lost"), HttpStatusCode.BadRequest, "status"),
        ["read: offers with an unknown status"] = new(a => a.B.Coordinator.GetAsync($"/api/care-homes/{a.Home}/offers?status=maybe"), HttpStatusCode.BadRequest, "status"),

        // Answering an offer
        ["accept: broker of another home"] = new(
            async a => await a.B.AcceptAsync(a.PlacementId, a.Home, caller: await a.B.BrokerAsync(a.OtherHome)), HttpStatusCode.Forbidden),
        ["accept: unknown placement"] = new(a => a.B.AcceptAsync("PL000000000000", a.Home), HttpStatusCode.NotFound),
        ["accept: home not offered"] = new(a => a.B.AcceptAsync(a.PlacementId, a.NotOffered), HttpStatusCode.NotFound),
        ["accept: admissionDate in the past"] = new(a => a.B.AcceptAsync(a.PlacementId, a.Home, admissionDate: a.B.Today.AddDays(-1)), HttpStatusCode.BadRequest, "admissionDate"),
        ["accept: admissionDate malformed"] = Offer("accept", new { admissionDate = "tomorrow", contactName = "M (test)" }, HttpStatusCode.BadRequest, "admissionDate"),
        ["accept: no contact name"] = OfferAt("accept", a => new { admissionDate = Iso(a.B.Today.AddDays(1)), contactName = " " }, HttpStatusCode.BadRequest, "contactName"),
        ["accept: by a Partner"] = new(a => a.B.AcceptAsync(a.PlacementId, a.Home, caller: a.Partner), HttpStatusCode.Forbidden),
        ["accept: by the discharge team"] = new(a => a.B.AcceptAsync(a.PlacementId, a.Home, caller: a.B.Team), HttpStatusCode.Forbidden),
        ["decline: unknown reason"] = Offer("decline", new { reason = "tooBusy", comment = (string?)null }, HttpStatusCode.BadRequest, "reason"),
        ["decline: 'other' without a comment"] = Offer("decline", new { reason = "other", comment = (string?)null }, HttpStatusCode.BadRequest, "comment"),
        ["accept: stale If-Match"] = new(a => Answer(a, "accept", "\"1\""), HttpStatusCode.PreconditionFailed), // refused before a bed is held
        ["accept: malformed If-Match"] = new(a => Answer(a, "accept", "garbage"), HttpStatusCode.BadRequest, "If-Match"),
        ["decline: stale If-Match"] = new(a => Answer(a, "decline", "\"1\""), HttpStatusCode.PreconditionFailed),
        ["decline: malformed If-Match"] = new(a => Answer(a, "decline", "garbage"), HttpStatusCode.BadRequest, "If-Match"),
        ["decline: home not offered"] = new(async a => await (await a.B.BrokerAsync(a.NotOffered)).PostAsJsonAsync(
            $"/api/placements/{a.PlacementId}/offers/{a.NotOffered}/decline", new { reason = "noBedAvailable" }), HttpStatusCode.NotFound),

        // Cancelling and admission
        ["cancel: without a reason"] = new(a => a.B.Team.PostAsJsonAsync($"/api/placements/{a.PlacementId}/cancel", new { }), HttpStatusCode.BadRequest, "reason"),
        ["cancel: blank reason"] = new(a => a.B.CancelAsync(a.PlacementId, "   "), HttpStatusCode.BadRequest, "reason"),
        ["cancel: another organisation's team"] = new(a => a.B.CancelAsync(a.PlacementId, caller: a.OtherTeam), HttpStatusCode.Forbidden),
        ["cancel: by a Broker"] = new(async a => await a.B.CancelAsync(a.PlacementId, caller: await a.B.BrokerAsync(a.Home)), HttpStatusCode.Forbidden),
        ["cancel: stale If-Match"] = new(a => Cancel(a, "\"1\""), HttpStatusCode.PreconditionFailed),
        ["cancel: malformed If-Match"] = new(a => Cancel(a, "version-2"), HttpStatusCode.BadRequest, "If-Match"),
        ["admitted: date in the future"] = new(a => a.B.AdmittedAsync(a.PlacementId, a.Home, a.B.Today.AddDays(2)), HttpStatusCode.BadRequest, "admittedOn"),

        // Care homes and vacancies
        ["care home: invalid CQC id"] = new(
            a => a.B.Coordinator.PutAsJsonAsync("/api/care-homes/1-12345", HomeBody("Synthetic", "Bedmoor", "good", ["nursing"])), HttpStatusCode.BadRequest, "cqcLocationId"),
        ["care home: unknown rating"] = new(
            a => a.B.Coordinator.PutAsJsonAsync($"/api/care-homes/{Cqc(9)}", HomeBody("Synthetic", "Bedmoor", "superb", ["nursing"])), HttpStatusCode.BadRequest, "cqcRating"),
        ["care home: put by a Broker"] = new(
            async a => await (await a.B.BrokerAsync(a.Home)).PutAsJsonAsync($"/api/care-homes/{a.Home}", HomeBody("Renamed", "Bedmoor", "good", ["nursing"])),
            HttpStatusCode.Forbidden),
        ["vacancies: more beds than maxCapacity"] = Vacancies(a => VacanciesBody(a.B.Now, 10, 6, 2, 3), HttpStatusCode.BadRequest, "beds.nursing"),
        ["vacancies: negative occupied"] = Vacancies(a => VacanciesBody(a.B.Now, 10, -1, 0, 3), HttpStatusCode.BadRequest, "beds.nursing"),
        ["vacancies: asOf in the future"] = Vacancies(a => VacanciesBody(a.B.Now.AddHours(1), 10, 5, 0, 3), HttpStatusCode.BadRequest, "asOf"),
        ["vacancies: without asOf"] = Vacancies(_ => new { beds = new { nursing = new { maxCapacity = 10, occupied = 5, vacantReserved = 0, vacantAccepting = 3 } } }, HttpStatusCode.BadRequest, "asOf"),
        ["vacancies: a bed type the home lacks"] = Vacancies(a => VacanciesBody(a.B.Now, 10, 5, 0, 3, "residential"), HttpStatusCode.BadRequest, "beds.residential"),
        ["vacancies: older than the figures held"] = Vacancies(a => VacanciesBody(a.B.Now.AddDays(-1), 10, 5, 0, 3), HttpStatusCode.Conflict),
        ["vacancies: another home's broker"] = new(
            async a => await (await a.B.BrokerAsync(a.OtherHome)).PutAsJsonAsync($"/api/care-homes/{a.Home}/vacancies", VacanciesBody(a.B.Now, 10, 5, 0, 3)),
            HttpStatusCode.Forbidden),
    };

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var name in Cases.Keys)
        {
            names.Add(name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task IsA4xxProblem_AndStoresNothing(string name)
    {
        var bad = Cases[name];

        var response = await bad.Send(app);

        response.StatusCode.ShouldBe(bad.Status, $"{name}: {await response.Content.ReadAsStringAsync()}");
        var problem = await Http.ProblemAsync(response);
        if (bad.Field is not null)
        {
            problem.GetProperty("errors").TryGetProperty(bad.Field, out _).ShouldBeTrue($"{name}: {problem}");
        }

        (await app.B.StoredRowsAsync()).ShouldBe(app.Rows, $"{name} stored something");
        var placements = await Http.JsonAsync(await app.B.Coordinator.GetAsync("/api/placements"));
        placements.EnumerateArray().Select(p => (Id(p), p.GetProperty("version").GetInt64())).ShouldBe([(app.PlacementId, app.PlacementVersion)]);
        (await app.B.HeldAsync(app.Home)).ShouldBe(0);
    }

    [Fact]
    public void ThereAreAtLeastTwentyCases() => Cases.Count.ShouldBeGreaterThanOrEqualTo(20);

    private static Case Request(Action<Dictionary<string, object?>> change, HttpStatusCode status, string? field = null) =>
        RequestAt((_, body) => change(body), status, field);

    private static Case RequestAt(Action<BadInputApp, Dictionary<string, object?>> change, HttpStatusCode status, string? field = null) =>
        new(a =>
        {
            var body = a.B.RequestBody();
            change(a, body);
            return a.B.PostRequestAsync(body);
        }, status, field);

    private static Case Offer(string answer, object body, HttpStatusCode status, string? field = null) => OfferAt(answer, _ => body, status, field);

    private static Case OfferAt(string answer, Func<BadInputApp, object> body, HttpStatusCode status, string? field = null) =>
        new(async a => await (await a.B.BrokerAsync(a.Home)).PostAsJsonAsync($"/api/placements/{a.PlacementId}/offers/{a.Home}/{answer}", body(a)), status, field);

    private static Case Vacancies(Func<BadInputApp, object> body, HttpStatusCode status, string? field = null) =>
        new(async a => await (await a.B.BrokerAsync(a.Home)).PutAsJsonAsync($"/api/care-homes/{a.Home}/vacancies", body(a)), status, field);

    private static async Task<HttpResponseMessage> Answer(BadInputApp a, string answer, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/placements/{a.PlacementId}/offers/{a.Home}/{answer}")
        {
            Content = JsonContent.Create(answer == "accept"
                ? new { admissionDate = Iso(a.B.Today.AddDays(1)), contactName = "Morgan Manager (test)" }
                : (object)new { reason = "noBedAvailable" }),
        };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await (await a.B.BrokerAsync(a.Home)).SendAsync(request);
    }

    private static Task<HttpResponseMessage> Cancel(BadInputApp a, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/placements/{a.PlacementId}/cancel")
        {
            Content = JsonContent.Create(new { reason = "Synthetic reason (test)." }),
        };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return a.B.Team.SendAsync(request);
    }
}
