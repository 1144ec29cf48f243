using System.Net;
using System.Net.Http.Json;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class AuthTests
{
    [Fact]
    public async Task NoToken_Is401Problem()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Client.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await Http.ProblemAsync(response);
    }

    [Fact]
    public async Task ForgedToken_Is401()
    {
        await using var app = await TestApp.StartAsync();
        await using var other = await TestApp.StartAsync(); // another issuer key
        var forged = await other.ClientAsAsync("Coordinator", "QZZ");

        var response = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/partners")
        {
            Headers = { Authorization = forged.DefaultRequestHeaders.Authorization },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("Partner")]
    [InlineData("Broker")]
    [InlineData("Executive")]
    [InlineData("DischargeTeam")]
    public async Task WrongRole_Is403Problem_AndStoresNothing(string role)
    {
        await using var app = await TestApp.StartAsync();
        var caller = await app.ClientAsAsync(role, "RZ1");

        var response = await caller.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await Http.ProblemAsync(response);
        (await caller.GetAsync("/api/partners/RZ1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Inbox_ShowsOnlyWhatIsAddressedToTheCaller()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        var coordinatorInbox = await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"));
        var partnerInbox = await Http.JsonAsync(await (await app.ClientAsAsync("Partner", "RZ1")).GetAsync("/api/inbox"));

        coordinatorInbox.EnumerateArray().Select(i => i.GetProperty("type").GetString()).ShouldBe(["PartnerRegistered"]);
        partnerInbox.GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task DevTokenRoute_DoesNotExistInProduction()
    {
        await using var app = await TestApp.StartAsync(environment: "Production");

        var response = await app.Client.PostAsJsonAsync("/api/dev/token", new { role = "Coordinator", org = "QZZ", name = "Mallory" });
        var anonymous = await app.Client.GetAsync("/api/partners");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DevToken_RejectsAnUnknownRole()
    {
        await using var app = await TestApp.StartAsync();

        var response = await app.Client.PostAsJsonAsync("/api/dev/token", new { role = "Admin", org = "QZZ", name = "Mallory" });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await Http.ProblemAsync(response)).GetProperty("errors").TryGetProperty("role", out _).ShouldBeTrue();
    }
}
