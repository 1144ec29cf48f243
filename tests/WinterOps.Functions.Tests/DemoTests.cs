using System.Net;
using System.Text.Json;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class DemoTests
{
    [Fact]
    public async Task SimulatedMorning_ShowsARound_ASystemLevel_OneTrustAtOpel4_AndTheMissingPartner()
    {
        await using var app = await TestApp.StartAsync(configure: b => b.Configuration["Demo:Seed"] = "true");
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var homes = await Http.JsonAsync(await coordinator.GetAsync("/api/care-homes"));
        for (var i = 0; i < 300 && homes.GetArrayLength() < 32; i++)
        {
            await Task.Delay(100);
            homes = await Http.JsonAsync(await coordinator.GetAsync("/api/care-homes"));
        }

        var simulated = await Http.JsonAsync(await coordinator.PostAsync("/api/dev/simulate-morning", null));
        var again = await Http.JsonAsync(await coordinator.PostAsync("/api/dev/simulate-morning", null));
        var round = await Http.JsonAsync(await coordinator.GetAsync(simulated.GetProperty("link").GetString()));

        homes.GetArrayLength().ShouldBe(32);
        simulated.GetProperty("status").GetString().ShouldBe("assessed");
        simulated.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).ShouldBe(["LZ4"]);
        simulated.GetProperty("systemLevel").ValueKind.ShouldBe(JsonValueKind.Number);
        again.GetProperty("received").GetInt32().ShouldBe(simulated.GetProperty("received").GetInt32()); // a second run changes nothing
        var levels = round.GetProperty("partners").EnumerateArray().ToDictionary(p => p.GetProperty("odsCode").GetString()!, p => p.GetProperty("effectiveLevel"));
        levels["RZ2"].GetInt32().ShouldBe(4);
        levels["LZ4"].ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task SimulatedMorning_DoesNotExistInProduction()
    {
        await using var app = await TestApp.StartAsync(environment: "Production");

        (await app.Client.PostAsync("/api/dev/simulate-morning", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
