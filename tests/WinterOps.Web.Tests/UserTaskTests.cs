using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WinterOps.Testing;

namespace WinterOps.Web.Tests;

/// <summary>One test per user's main task, in Debian's chromium against the real app, each page checked with axe and saved as a screenshot.</summary>
[Collection(BrowserTests.Name)]
public class UserTaskTests(WebApp web)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly string[] Bedmoor = ["Bedmoor"];

    [Fact]
    public async Task Broker_AcceptsAnOfferWithAdmissionDateAndContact_AndThePlacementIsBooked()
    {
        await using var app = await WebApp.StartAppAsync();
        var team = await app.ClientAsAsync("DischargeTeam", "RZ1", "Jo Patel");
        var placement = await Post(team, "/api/placements", new
        {
            patientRef = "WEB-0001", referringOrg = "RZ1", pathway = "P3", bedType = "nursing", fundingRoute = "chc",
            preferredLocalities = Bedmoor, requiredBy = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(7)).ToString("yyyy-MM-dd"),
        });
        var id = placement.GetProperty("placementId").GetString()!;
        var home = placement.GetProperty("offers")[0].GetProperty("cqcLocationId").GetString()!;
        var broker = await app.ClientAsAsync("Broker", home, "Pat Broker");
        await Until(async () => (await broker.GetFromJsonAsync<JsonElement>($"/api/care-homes/{home}/offers?status=open")).EnumerateArray()
            .Any(o => o.GetProperty("placementId").GetString() == id));

        var page = await web.SignedInAsync(app, "Broker", home, "Pat Broker", "/offers");
        var card = page.Locator($"#offer-{id}");
        await Assertions.Expect(card).ToContainTextAsync("left");
        await Assertions.Expect(page.Locator("#vacancies-form")).ToBeVisibleAsync();
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "offers");

        var admission = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(3)).ToString("yyyy-MM-dd");
        await card.GetByLabel("Admission date").FillAsync(admission);
        await card.GetByLabel("Contact name at the home").FillAsync("Pat Broker");
        await card.GetByRole(AriaRole.Button, new() { Name = "Accept offer" }).ClickAsync();

        await Assertions.Expect(page.Locator($"#booked-{id}")).ToContainTextAsync("Offer accepted");
        await WebApp.ScreenshotAsync(page, "offers-accepted");
        var booked = await team.GetFromJsonAsync<JsonElement>($"/api/placements/{id}");
        booked.GetProperty("status").GetString().ShouldBe("booked");
        booked.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(home);
        booked.GetProperty("booking").GetProperty("admissionDate").GetString().ShouldBe(admission);
        booked.GetProperty("booking").GetProperty("contactName").GetString().ShouldBe("Pat Broker");
    }

    [Fact]
    public async Task Partner_SubmitsTodaysReturn_SeesTheLevelBeforeSubmitting_AndTheLevelTheApiGave()
    {
        await using var app = await WebApp.StartAppAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var acute = (await coordinator.GetFromJsonAsync<JsonElement>("/api/opel/frameworks")).GetProperty("frameworks").EnumerateArray()
            .Single(f => f.GetProperty("sector").GetString() == "acute");

        var page = await web.SignedInAsync(app, "Partner", "RZ3", "Dana Flow", "/returns");
        await Assertions.Expect(page.Locator("#return-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#history-chart canvas")).ToBeVisibleAsync();
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "returns");

        // Every parameter at its OPEL 3 threshold, taken from the framework the API serves.
        foreach (var parameter in acute.GetProperty("parameters").EnumerateArray())
        {
            var level3 = parameter.GetProperty("level3").GetDecimal();
            var value = parameter.GetProperty("worseWhen").GetString() == "higherIsWorse" ? level3 : level3 - 1;
            await page.Locator($"#metric-{parameter.GetProperty("key").GetString()}").FillAsync(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await Assertions.Expect(page.Locator("#preview")).ToContainTextAsync("OPEL 3");
        await WebApp.ScreenshotAsync(page, "returns-preview");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit return" }).ClickAsync();

        await Assertions.Expect(page.Locator("#submitted")).ToContainTextAsync("Return submitted");
        var stored = await coordinator.GetFromJsonAsync<JsonElement>($"/api/returns/{London.Today}/RZ3");
        stored.GetProperty("computedLevel").GetInt32().ShouldBe(3);
        await Assertions.Expect(page.Locator("#submitted-level")).ToHaveTextAsync($"OPEL {stored.GetProperty("effectiveLevel").GetInt32()}");
        await WebApp.ScreenshotAsync(page, "returns-submitted");
    }

    [Fact]
    public async Task Executive_AcknowledgesAnEscalationWithANote_AndTheLadderShowsIt()
    {
        await using var app = await WebApp.StartAppAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        (await coordinator.PostAsync("/api/dev/simulate-morning", null)).EnsureSuccessStatusCode();
        var id = "";
        await Until(async () =>
        {
            var open = await coordinator.GetFromJsonAsync<JsonElement>("/api/escalations?status=open");
            id = open.EnumerateArray().Where(e => e.GetProperty("subject").GetString() == "RZ2").Select(e => e.GetProperty("escalationId").GetString()).FirstOrDefault() ?? "";
            return id.Length > 0;
        });

        var page = await web.SignedInAsync(app, "Executive", "RZ2", "Chris Evans", "/escalations");
        await Assertions.Expect(page.Locator("#my-escalations")).ToContainTextAsync("RZ2");
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "escalations");

        await page.Locator("#my-escalations").GetByRole(AriaRole.Link).First.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/escalations/{Regex.Escape(id)}$"));
        await Assertions.Expect(page.Locator("#ladder")).ToContainTextAsync("Step 1");
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "escalation");
        await page.GetByLabel("Note (optional)").FillAsync("Opening the discharge lounge; calling the site team.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge escalation" }).ClickAsync();

        await Assertions.Expect(page.Locator("#escalation-status")).ToHaveTextAsync("Acknowledged");
        await Assertions.Expect(page.Locator("#ladder")).ToContainTextAsync("Acknowledged by Chris Evans: Opening the discharge lounge");
        await WebApp.ScreenshotAsync(page, "escalation-acknowledged");
        var escalation = await coordinator.GetFromJsonAsync<JsonElement>($"/api/escalations/{id}");
        escalation.GetProperty("acknowledgement").GetProperty("note").GetString().ShouldBe("Opening the discharge lounge; calling the site team.");
    }

    [Fact]
    public async Task DischargeTeam_RequestsAPlacement_AndSeesItsStatusOffersAndHistory()
    {
        await using var app = await WebApp.StartAppAsync();
        var page = await web.SignedInAsync(app, "DischargeTeam", "RZ1", "Jo Patel", "/placements");
        await Assertions.Expect(page.Locator("#request-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#locality option", new() { HasText = "Bedmoor" })).ToHaveCountAsync(1);

        // Submitting with nothing filled in shows the error summary first.
        await page.GetByRole(AriaRole.Button, new() { Name = "Request placement" }).ClickAsync();
        await Assertions.Expect(page.Locator(".nhsuk-error-summary")).ToBeFocusedAsync();
        await Assertions.Expect(page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Enter the patient reference");
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "placements-errors");

        await page.GetByLabel("Patient reference").FillAsync("WEB-0042");
        await page.GetByLabel("Pathway 3 (long-term bed)").CheckAsync();
        await page.GetByLabel("Bed type").SelectOptionAsync("nursing");
        await page.GetByLabel("Funding route").SelectOptionAsync("chc");
        await page.GetByLabel("Preferred locality (optional)").SelectOptionAsync("Bedmoor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Request placement" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/placements/PL[0-9A-F]+$"));
        var id = new Uri(page.Url).Segments[^1];
        await Assertions.Expect(page.Locator("#placement-status")).ToHaveTextAsync("Awaiting responses");
        await Assertions.Expect(page.Locator("#offers-table tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#history-list")).ToContainTextAsync("Requested, by Jo Patel (RZ1)");
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "placement");

        var team = await app.ClientAsAsync("DischargeTeam", "RZ1");
        var placement = await team.GetFromJsonAsync<JsonElement>($"/api/placements/{id}");
        placement.GetProperty("patientRef").GetString().ShouldBe("WEB-0042");
        placement.GetProperty("offers").EnumerateArray().ShouldAllBe(o => o.GetProperty("locality").GetString() == "Bedmoor");

        await page.GotoAsync("/placements");
        await Assertions.Expect(page.Locator("#my-placements")).ToContainTextAsync(id);
        await WebApp.ScreenshotAsync(page, "placements");
    }

    [Fact]
    public async Task Dashboard_ShowsTheSimulatedMorning_SystemLevelPartnersTrendEscalationsAndPlacements()
    {
        await using var app = await WebApp.StartAppAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        (await coordinator.PostAsync("/api/dev/simulate-morning", null)).EnsureSuccessStatusCode();
        JsonElement status = default;
        await Until(async () =>
        {
            status = await coordinator.GetFromJsonAsync<JsonElement>("/api/system/status");
            var round = status.GetProperty("round");
            return round.GetProperty("systemLevel").ValueKind == JsonValueKind.Number && round.GetProperty("received").GetInt32() == round.GetProperty("expected").GetInt32() - 1
                && status.GetProperty("openEscalations").GetArrayLength() > 0;
        });
        var systemLevel = status.GetProperty("round").GetProperty("systemLevel").GetInt32();

        var page = await web.SignedInAsync(app, "Coordinator", "QZZ", "Sam Carter", "/dashboard");
        await Assertions.Expect(page.Locator("#system-level")).ToContainTextAsync($"System OPEL level: OPEL {systemLevel}");
        await Assertions.Expect(page.Locator("#pillars")).ToContainTextAsync("Acute");
        await Assertions.Expect(page.Locator("#partner-levels tr", new() { HasText = "(LZ4)" })).ToContainTextAsync("Missing");
        await Assertions.Expect(page.Locator("#partner-levels tr", new() { HasText = "(RZ2)" })).ToContainTextAsync("OPEL 4");
        await Assertions.Expect(page.Locator("#trend-chart canvas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#open-escalations")).ToContainTextAsync("RZ2 is at OPEL 4");
        await Assertions.Expect(page.Locator("#open-escalations")).ToContainTextAsync("step 1 alerted");
        await Assertions.Expect(page.Locator("#funnel-awaiting")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("#funnel-median")).ToHaveTextAsync("No bookings yet");
        await WebApp.ShouldBeAccessibleAsync(page);
        await WebApp.ScreenshotAsync(page, "dashboard");
    }

    private static async Task<JsonElement> Post(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body, Json);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits (up to 30 s) for a condition the API reaches a moment after the request that causes it.</summary>
    private static async Task Until(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        (await condition()).ShouldBeTrue("the API did not reach the state the test waits for within 30 s");
    }
}

internal static class London
{
    public static string Today => TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
