using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class PartnerApiTests
{
    [Fact]
    public async Task Coordinator_RegistersAndReadsAPartner()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var created = await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        created.Headers.ETag!.Tag.ShouldBe("\"1\"");
        created.Headers.Location!.ToString().ShouldBe("/api/partners/RZ1");
        var read = await Http.JsonAsync(await coordinator.GetAsync("/api/partners/RZ1"));
        read.GetProperty("sector").GetString().ShouldBe("acute");
        read.GetProperty("contacts")[0].GetProperty("name").GetString().ShouldBe("Alex Morgan");
        var list = await Http.JsonAsync(await coordinator.GetAsync("/api/partners"));
        list.EnumerateArray().Select(p => p.GetProperty("odsCode").GetString()).ShouldBe(["RZ1"]);
    }

    [Fact]
    public async Task RepeatedPut_ChangesNothing_AndAChangeMakesVersion2()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        var same = await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());
        var changed = await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner(name: "Bedmoor Hospitals (test)"));

        same.StatusCode.ShouldBe(HttpStatusCode.OK);
        same.Headers.ETag!.Tag.ShouldBe("\"1\"");
        changed.Headers.ETag!.Tag.ShouldBe("\"2\"");
    }

    [Fact]
    public async Task OtherOrganisations_DoNotSeeContacts()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        var other = await Http.JsonAsync(await (await app.ClientAsAsync("Partner", "RZ2")).GetAsync("/api/partners/RZ1"));
        var own = await Http.JsonAsync(await (await app.ClientAsAsync("Partner", "RZ1")).GetAsync("/api/partners/RZ1"));

        other.GetProperty("contacts").ValueKind.ShouldBe(JsonValueKind.Null);
        own.GetProperty("contacts").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task IfMatch_WithAStaleETag_Is412_AndWithTheCurrentOneSucceeds()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner(name: "Renamed"));

        var stale = new HttpRequestMessage(HttpMethod.Put, "/api/partners/RZ1") { Content = JsonContent.Create(Http.Partner(name: "Stale")) };
        stale.Headers.IfMatch.ParseAdd("\"1\"");
        var staleResponse = await coordinator.SendAsync(stale);
        var current = new HttpRequestMessage(HttpMethod.Put, "/api/partners/RZ1") { Content = JsonContent.Create(Http.Partner(name: "Current")) };
        current.Headers.IfMatch.ParseAdd("\"2\"");
        var currentResponse = await coordinator.SendAsync(current);

        staleResponse.StatusCode.ShouldBe(HttpStatusCode.PreconditionFailed);
        (await Http.ProblemAsync(staleResponse)).GetProperty("currentETag").GetString().ShouldBe("\"2\"");
        currentResponse.Headers.ETag!.Tag.ShouldBe("\"3\"");
    }

    [Fact]
    public async Task IdempotencyKey_ReplaysTheOriginalResponse_AndRejectsAnotherBody()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        async Task<HttpResponseMessage> Put(object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Put, "/api/partners/RZ1") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "key-1");
            return await coordinator.SendAsync(request);
        }

        var first = await Put(Http.Partner());
        var replay = await Put(Http.Partner());
        var different = await Put(Http.Partner(name: "Something else"));

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        replay.StatusCode.ShouldBe(HttpStatusCode.Created);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        replay.Headers.ETag!.Tag.ShouldBe("\"1\"");
        (await replay.Content.ReadAsStringAsync()).ShouldBe(await first.Content.ReadAsStringAsync());
        different.StatusCode.ShouldBe((HttpStatusCode)422);
        await Http.ProblemAsync(different);
        (await Http.JsonAsync(await coordinator.GetAsync("/api/partners/RZ1"))).GetProperty("name").GetString().ShouldBe("Bedmoor Hospital (test)");
    }

    public static TheoryData<string, string, string, HttpStatusCode, string?> BadPartnerRequests => new()
    {
        { "malformed JSON", "RZ1", "{\"name\": \"x\",", HttpStatusCode.BadRequest, null },
        { "unknown sector", "RZ1", Body(sector: "hospital"), HttpStatusCode.BadRequest, "sector" },
        { "empty name", "RZ1", Body(name: ""), HttpStatusCode.BadRequest, "name" },
        { "invalid ODS code", "rz-1", Body(), HttpStatusCode.BadRequest, "odsCode" },
        { "too long ODS code", "RZ12345678901", Body(), HttpStatusCode.BadRequest, "odsCode" },
        { "negative size weight", "RZ1", Body(sizeWeight: "-5"), HttpStatusCode.BadRequest, "sizeWeight" },
        { "size weight of the wrong type", "RZ1", Body(sizeWeight: "\"big\""), HttpStatusCode.BadRequest, null },
        { "unknown field", "RZ1", "{\"name\":\"A\",\"sector\":\"acute\",\"sizeWeight\":1,\"expectedDaily\":true,\"colour\":\"red\"}", HttpStatusCode.BadRequest, null },
        { "contact without a name", "RZ1", "{\"name\":\"A\",\"sector\":\"acute\",\"sizeWeight\":1,\"expectedDaily\":true,\"contacts\":[{\"role\":\"x\",\"onCallOrder\":1}]}", HttpStatusCode.BadRequest, "contacts[0].name" },
        { "contact id not a GUID", "RZ1", "{\"name\":\"A\",\"sector\":\"acute\",\"sizeWeight\":1,\"expectedDaily\":true,\"contacts\":[{\"name\":\"B\",\"entraUserId\":\"bob\",\"role\":\"x\",\"onCallOrder\":1}]}", HttpStatusCode.BadRequest, "contacts[0].entraUserId" },
        { "an array instead of an object", "RZ1", "[]", HttpStatusCode.BadRequest, null },
        { "an empty body", "RZ1", "", HttpStatusCode.BadRequest, null },
    };

    [Theory]
    [MemberData(nameof(BadPartnerRequests))]
    public async Task BadInput_IsA400Problem_AndStoresNothing(string why, string odsCode, string body, HttpStatusCode expected, string? field)
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var response = await coordinator.PutAsync($"/api/partners/{odsCode}", Http.Json(body));

        response.StatusCode.ShouldBe(expected, why);
        var problem = await Http.ProblemAsync(response);
        if (field is not null)
        {
            problem.GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue($"{why}: {problem}");
        }

        await AssertNothingStored(app, coordinator);
    }

    [Fact]
    public async Task WrongContentType_Is415_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var response = await coordinator.PutAsync("/api/partners/RZ1", new StringContent(Body(), System.Text.Encoding.UTF8, "text/plain"));

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        await Http.ProblemAsync(response);
        await AssertNothingStored(app, coordinator);
    }

    [Fact]
    public async Task OneMegabyteBody_Is413_AndStoresNothing()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var response = await coordinator.PutAsync("/api/partners/RZ1", Http.Json(Body(name: new string('a', 1024 * 1024))));

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        await Http.ProblemAsync(response);
        await AssertNothingStored(app, coordinator);
    }

    [Fact]
    public async Task UnknownPartner_Is404Problem()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var response = await coordinator.GetAsync("/api/partners/RZ9");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await Http.ProblemAsync(response)).GetProperty("detail").GetString()!.ShouldContain("RZ9");
    }

    private static string Body(string name = "Bedmoor Hospital", string sector = "acute", string sizeWeight = "600") =>
        $"{{\"name\":{JsonSerializer.Serialize(name)},\"sector\":\"{sector}\",\"sizeWeight\":{sizeWeight},\"expectedDaily\":true,\"contacts\":[]}}";

    private static async Task AssertNothingStored(TestApp app, HttpClient coordinator)
    {
        var list = await Http.JsonAsync(await coordinator.GetAsync("/api/partners"));
        list.GetArrayLength().ShouldBe(0);
        var partners = app.Get<WinterOps.Azure.Storage.StorageAccount>().Table(WinterOps.Azure.Storage.StorageNames.PartnersTable);
        var rows = 0;
        await foreach (var _ in partners.QueryAsync<global::Azure.Data.Tables.TableEntity>())
        {
            rows++;
        }

        rows.ShouldBe(0);
    }
}
