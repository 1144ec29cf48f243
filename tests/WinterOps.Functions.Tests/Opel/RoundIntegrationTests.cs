using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WinterOps.Core;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Tests.Placements;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>The daily round end to end on Azurite: returns on their own rows, the round's orchestration at the deadline, late returns.</summary>
public sealed class RoundIntegrationTests
{
    private const int Partners = 200;

    // All 200 are expected daily.
    private const int ExpectedDaily = Partners;

    private static int Received(JsonElement round) => round.GetProperty("received").GetInt32();

    [Fact]
    public async Task TwoHundredPartners_ReportAtOnce_NoReturnIsLost_AndTheDeadlineAssessesOnce()
    {
        await using var round = await OpelRound.StartAsync(localTriggers: true);
        var numbers = Enumerable.Range(1, Partners).ToList();
        var clients = await Task.WhenAll(numbers.Select(n => round.App.ClientAsAsync("Partner", OpelRound.Ods(n), $"Reporter {n} (test)")));
        var day = London.Today(round.Clock.UtcNow);
                await round.RegisterAsync(numbers, n => OpelRound.PartnerBody(n, expectedDaily: n <= ExpectedDaily));
        round.SetLondon(day, 8, 0);
        (await round.TickAsync()).ShouldBe(day);
        (await round.RoundAsync(day)).GetProperty("expected").GetInt32().ShouldBe(ExpectedDaily);
        round.SetLondon(day, 9, 15);

        using var gate = new SemaphoreSlim(32);
        var statuses = await Task.WhenAll(numbers.Select(async n =>
        {
            await gate.WaitAsync();
            try
            {
                return (await clients[n - 1].PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(n)}", OpelRound.Return())).StatusCode;
            }
            finally
            {
                gate.Release();
            }
        }));
        statuses.ShouldAllBe(s => s == HttpStatusCode.OK);

        var collected = await round.RoundAsync(day);
        Received(collected).ShouldBe(Partners);
        collected.GetProperty("missing").GetArrayLength().ShouldBe(0);
        collected.GetProperty("status").GetString().ShouldBe("collecting");

        round.SetLondon(day, 11, 0);
        await round.WakeAsync(day); // the deadline has passed by the app's clock
        await round.WakeAsync(day); // and again: a second wake assesses nothing more

        var assessed = await round.AssessedAsync(day);
        assessed.GetProperty("status").GetString().ShouldBe("assessed");
        assessed.GetProperty("systemLevel").GetInt32().ShouldBe(1);
        assessed.GetProperty("received").GetInt32().ShouldBe(Partners);
        assessed.GetProperty("partners").EnumerateArray().Count(p => !p.GetProperty("missing").GetBoolean()).ShouldBe(Partners);
        var events = await round.RoundEventsAsync(day);
        events.ShouldBe(["RoundOpened", "RoundAssessed"]); // the returns never touched the round's row
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task LateReturn_RaisingAPartnerToOpel4_Reassesses_OncePerRevision()
    {
        await using var round = await OpelRound.StartAsync(localTriggers: true);
        await round.RegisterAsync([1], n => OpelRound.PartnerBody(n, sizeWeight: 600));
        await round.RegisterAsync([2, 3]);
        using var big = await round.App.ClientAsAsync("Partner", OpelRound.Ods(1), "Big Reporter (test)");
        using var small = await round.App.ClientAsAsync("Partner", OpelRound.Ods(2), "Small Reporter (test)");
        var day = London.Today(round.Clock.UtcNow);
        var date = OpelRound.Iso(day);
        round.SetLondon(day, 8, 0);
        (await round.TickAsync()).ShouldBe(day);
        round.SetLondon(day, 9, 0);
        (await big.PutAsJsonAsync($"/api/returns/{date}/{OpelRound.Ods(1)}", OpelRound.Return())).EnsureSuccessStatusCode();
        (await small.PutAsJsonAsync($"/api/returns/{date}/{OpelRound.Ods(2)}", OpelRound.Return())).EnsureSuccessStatusCode();
        Received(await round.RoundAsync(day)).ShouldBe(2);
        round.SetLondon(day, 11, 0);
        await round.WakeAsync(day);
        var atDeadline = await round.AssessedAsync(day);
        atDeadline.GetProperty("systemLevel").GetInt32().ShouldBe(1); // Z0003 missing with nothing to carry

        round.SetLondon(day, 14, 0);
        var opel4 = await big.PutAsJsonAsync($"/api/returns/{date}/{OpelRound.Ods(1)}", OpelRound.Return(declaredLevel: 4));
        opel4.StatusCode.ShouldBe(HttpStatusCode.OK, await opel4.Content.ReadAsStringAsync());

        // (600 x 4 + 100 x 1) / 700 = 3.57 -> OPEL 4
        var reassessed = await Brokerage.EventuallyAsync(
            () => round.RoundAsync(day), r => r.GetProperty("systemLevel").GetInt32() != 1, "the re-assessment", TimeSpan.FromSeconds(30));
        reassessed.GetProperty("systemLevel").GetInt32().ShouldBe(4);
        reassessed.GetProperty("partners").EnumerateArray().Single(p => p.GetProperty("odsCode").GetString() == OpelRound.Ods(1))
            .GetProperty("effectiveLevel").GetInt32().ShouldBe(4);

        // Rule 1 (system at 3 or above) and rule 2 (Z0001 at OPEL 4, raised at once by the return and again by the
        // re-assessment) each raised exactly one escalation.
        var raised = await Brokerage.EventuallyAsync(
            async () => await Http.JsonAsync(await round.Coordinator.GetAsync("/api/escalations")), e => e.GetArrayLength() >= 2, "the escalations",
            TimeSpan.FromSeconds(30));
        raised.EnumerateArray().Select(e => e.GetProperty("rule").GetString()).Order().ShouldBe(["partnerAtOpel4", "systemLevel"]);

        // A wake changes nothing once the round is assessed.
        await round.WakeAsync(day, assessNow: true);
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a stray assessment to show up
        (await round.RoundEventsAsync(day)).Count(e => e == "RoundAssessed").ShouldBe(2);

        // A second revision re-assesses once more; the same return again (a retry) is not a revision, and falls in the same burst.
        round.SetLondon(day, 16, 0);
        (await big.PutAsJsonAsync($"/api/returns/{date}/{OpelRound.Ods(1)}", OpelRound.Return(declaredLevel: 2))).EnsureSuccessStatusCode();
        (await big.PutAsJsonAsync($"/api/returns/{date}/{OpelRound.Ods(1)}", OpelRound.Return(declaredLevel: 2))).EnsureSuccessStatusCode();
        var lowered = await Brokerage.EventuallyAsync(
            () => round.RoundAsync(day), r => r.GetProperty("systemLevel").GetInt32() != 4, "the second re-assessment", TimeSpan.FromSeconds(30));
        lowered.GetProperty("systemLevel").GetInt32().ShouldBe(2); // (600 x 2 + 100) / 700 = 1.86
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a stray duplicate to show up
        (await round.RoundEventsAsync(day)).Count(e => e == "RoundAssessed").ShouldBe(3);
        (await round.App.Get<RoundStore>().LoadAsync(day, CancellationToken.None))!.Assessments.ShouldBe(3);
    }

    [Fact]
    public async Task TheReminder_GoesToTheMissingPartnersOnly_Once()
    {
        await using var round = await OpelRound.StartAsync(localTriggers: false);
        await round.RegisterAsync([1, 2, 3]);
        var clients = await Task.WhenAll(Enumerable.Range(1, 3).Select(n => round.App.ClientAsAsync("Partner", OpelRound.Ods(n), $"Reporter {n} (test)")));
        var day = London.Today(round.Clock.UtcNow);
        round.SetLondon(day, 8, 0);
        (await round.TickAsync()).ShouldBe(day);
        round.SetLondon(day, 9, 0);
        (await clients[0].PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(1)}", OpelRound.Return())).EnsureSuccessStatusCode();

        round.SetLondon(day, 10, 30);
        await round.WakeAsync(day);
        await Brokerage.EventuallyAsync(() => round.RoundEventsAsync(day), e => e.Contains("RoundReminded"), "the reminder");
        await round.WakeAsync(day); // looked at again: reminded already

        Task<int[]> RemindersAsync() => Task.WhenAll(clients.Select(async c => (await Http.JsonAsync(await c.GetAsync("/api/inbox?limit=100"))).EnumerateArray()
            .Count(i => i.GetProperty("type").GetString() == "OpelReturnReminder")));
        await Brokerage.EventuallyAsync(RemindersAsync, counts => counts.Sum() >= 2, "the reminders");
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a second reminder that should not come
        (await RemindersAsync()).ShouldBe([0, 1, 1]);
        (await round.RoundEventsAsync(day)).ShouldBe(["RoundOpened", "RoundReminded"]);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
