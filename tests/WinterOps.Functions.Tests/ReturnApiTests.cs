using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WinterOps.Core;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class ReturnApiTests : IAsyncLifetime
{
    private TestApp _app = null!;
    private HttpClient _trust = null!;
    private string _today = "";

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync();
        var coordinator = await _app.ClientAsAsync("Coordinator", "QZZ");
        (await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner())).EnsureSuccessStatusCode();
        (await coordinator.PutAsJsonAsync("/api/partners/RZ7", Http.Partner("Ouseland NHS 111 (test)", "nhs111"))).EnsureSuccessStatusCode();
        _trust = await _app.ClientAsAsync("Partner", "RZ1", "Dana Flow");
        _today = London.Today(DateTimeOffset.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static object Calm(decimal handover = 10) => new
    {
        metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = handover, ["edFourHourPerformancePct"] = 85, ["edAttendanceVariationPct"] = 0,
            ["majorsResusOccupancyPct"] = 70, ["medianTimeToTreatmentMinutes"] = 45, ["edOver12HoursPct"] = 1,
            ["generalAcuteBedOccupancyPct"] = 88, ["escalationBedsPct"] = 0, ["noCriteriaToResidePct"] = 5,
        },
    };

    [Fact]
    public async Task Partner_SubmitsItsReturn_AndSeesTheBreakdown_ThenARevisionKeepsHistory()
    {
        var first = await Http.JsonAsync(await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", Calm()));
        var revised = await Http.JsonAsync(await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", Calm(handover: 75)));
        var repeated = await Http.JsonAsync(await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", Calm(handover: 75)));

        first.GetProperty("computedLevel").GetInt32().ShouldBe(1);
        first.GetProperty("breakdown").GetArrayLength().ShouldBe(9);
        first.GetProperty("illustrative").GetBoolean().ShouldBeTrue();
        revised.GetProperty("revision").GetInt32().ShouldBe(2);
        revised.GetProperty("computedLevel").GetInt32().ShouldBe(2); // handover at level 4 (weight 2): 17 > 16.5
        repeated.GetProperty("revision").GetInt32().ShouldBe(2); // the same return again changes nothing
        var stored = await Http.JsonAsync(await (await _app.ClientAsAsync("Executive", "QZZ")).GetAsync($"/api/returns/{_today}/RZ1"));
        stored.GetProperty("revisions").EnumerateArray().Select(r => r.GetProperty("effectiveLevel").GetInt32()).ShouldBe([1, 2]);
        stored.GetProperty("revisions")[0].GetProperty("submittedBy").GetString().ShouldBe("Dana Flow");
    }

    [Fact]
    public async Task DeclaredLevel_DifferentFromTheComputedOne_NeedsAReason_AndThenWins()
    {
        var withoutReason = await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", new { ((dynamic)Calm()).metrics, declaredLevel = 3 });
        var withReason = await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", new { ((dynamic)Calm()).metrics, declaredLevel = 3, reason = "Two wards closed for norovirus" });

        withoutReason.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Http.ProblemAsync(withoutReason)).GetProperty("errors").TryGetProperty("reason", out _).ShouldBeTrue();
        var body = await Http.JsonAsync(withReason);
        body.GetProperty("computedLevel").GetInt32().ShouldBe(1);
        body.GetProperty("effectiveLevel").GetInt32().ShouldBe(3);
    }

    [Fact]
    public async Task SectorWithoutATable_DeclaresItsLevel()
    {
        var nhs111 = await _app.ClientAsAsync("Partner", "RZ7");

        var noLevel = await nhs111.PutAsJsonAsync($"/api/returns/{_today}/RZ7", new { metrics = new { } });
        var declared = await nhs111.PutAsJsonAsync($"/api/returns/{_today}/RZ7", new { metrics = new { }, declaredLevel = 2, reason = "Call volumes 20% over plan" });

        noLevel.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Http.JsonAsync(declared)).GetProperty("effectiveLevel").GetInt32().ShouldBe(2);
    }

    public static TheoryData<string, string, string, string, HttpStatusCode, string?> BadReturns() => new()
    {
        { "unknown metric", "{today}", "RZ1", """{"metrics":{"bedsOnFire":3}}""", HttpStatusCode.BadRequest, "metrics.bedsOnFire" },
        { "metric of the wrong type", "{today}", "RZ1", """{"metrics":{"meanAmbulanceHandoverMinutes":"long"}}""", HttpStatusCode.BadRequest, "metrics.meanAmbulanceHandoverMinutes" },
        { "negative minutes", "{today}", "RZ1", """{"metrics":{"meanAmbulanceHandoverMinutes":-5}}""", HttpStatusCode.BadRequest, "metrics.meanAmbulanceHandoverMinutes" },
        { "occupancy above a sane ceiling", "{today}", "RZ1", """{"metrics":{"generalAcuteBedOccupancyPct":400}}""", HttpStatusCode.BadRequest, "metrics.generalAcuteBedOccupancyPct" },
        { "a level of 5", "{today}", "RZ1", """{"metrics":{},"declaredLevel":5,"reason":"x"}""", HttpStatusCode.BadRequest, "declaredLevel" },
        { "too few metrics and no declared level", "{today}", "RZ1", """{"metrics":{"escalationBedsPct":4}}""", HttpStatusCode.BadRequest, "metrics" },
        { "malformed date", "22-11-2026", "RZ1", """{"metrics":{}}""", HttpStatusCode.BadRequest, "date" },
        { "date after tomorrow", "2099-01-01", "RZ1", """{"metrics":{}}""", HttpStatusCode.BadRequest, "date" },
        { "date outside the amendment window", "2020-01-01", "RZ1", """{"metrics":{}}""", HttpStatusCode.BadRequest, "date" },
        { "another organisation's code", "{today}", "RZ2", """{"metrics":{},"declaredLevel":1}""", HttpStatusCode.Forbidden, null },
        { "malformed JSON", "{today}", "RZ1", """{"metrics":{""", HttpStatusCode.BadRequest, null },
        { "metrics as a list", "{today}", "RZ1", """{"metrics":[1,2]}""", HttpStatusCode.BadRequest, null },
    };

    [Theory]
    [InlineData("/api/returns/0001-01-01", "date")]
    [InlineData("/api/returns/9999-12-31", "date")]
    [InlineData("/api/system/status?date=0001-01-01", "date")]
    [InlineData("/api/system/history?to=9999-12-31", "to")]
    [InlineData("/api/system/history?from=9999-12-31&to=9999-12-31", "to")]
    [InlineData("/api/system/history?to=0001-01-13", "to")]
    public async Task DatesAtTheEdgesOfTheCalendar_AreA400_NotAnOverflow(string path, string field)
    {
        var response = await _trust.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Http.ProblemAsync(response)).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(BadReturns))]
    public async Task BadReturn_IsAProblem_AndStoresNothing(string why, string date, string odsCode, string body, HttpStatusCode expected, string? field)
    {
        var response = await _trust.PutAsync($"/api/returns/{date.Replace("{today}", _today, StringComparison.Ordinal)}/{odsCode}", Http.Json(body));

        response.StatusCode.ShouldBe(expected, why);
        var problem = await Http.ProblemAsync(response);
        if (field is not null)
        {
            problem.GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue($"{why}: {problem}");
        }

        (await (await _app.ClientAsAsync("Coordinator", "QZZ")).GetAsync($"/api/returns/{_today}/RZ1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnotherPartner_CannotReadTheReturn_ButExecutivesCan()
    {
        await _trust.PutAsJsonAsync($"/api/returns/{_today}/RZ1", Calm());

        (await (await _app.ClientAsAsync("Partner", "RZ2")).GetAsync($"/api/returns/{_today}/RZ1")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await (await _app.ClientAsAsync("Executive", "QZZ")).GetAsync($"/api/returns/{_today}/RZ1")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Frameworks_AreServedWithTheirIllustrativeFlag()
    {
        var frameworks = await Http.JsonAsync(await _trust.GetAsync("/api/opel/frameworks"));

        var acute = frameworks.GetProperty("frameworks").EnumerateArray().Single(f => f.GetProperty("sector").GetString() == "acute");
        acute.GetProperty("illustrative").GetBoolean().ShouldBeTrue();
        acute.GetProperty("totalWeight").GetDecimal().ShouldBe(11);
        frameworks.GetProperty("pillarWeights").TryGetProperty("acute", out _).ShouldBeTrue(JsonSerializer.Serialize(frameworks.GetProperty("pillarWeights")));
    }
}
