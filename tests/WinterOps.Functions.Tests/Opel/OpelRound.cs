using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using WinterOps.Core;
using WinterOps.Core.Opel;
using Microsoft.DurableTask.Client;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>
/// One running app with a test clock, a coordinator and the calls the OPEL round tests make.
/// Tokens are issued while the clock still shows real time (token validation uses real time);
/// the tests then move the clock. All partners are synthetic (ODS codes Z0001...).
/// </summary>
public sealed class OpelRound : IAsyncDisposable
{
    private OpelRound(TestApp app, TestClock clock, HttpClient coordinator)
    {
        App = app;
        Clock = clock;
        Coordinator = coordinator;
    }

    public TestApp App { get; }

    public TestClock Clock { get; }

    public HttpClient Coordinator { get; }

    public static async Task<OpelRound> StartAsync(bool localTriggers, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        var app = await TestApp.StartAsync(localTriggers: localTriggers, time: clock, configure: builder =>
        {
            // The tests open the round themselves (TickAsync). The DailyTick timer stays off: it fires on the wall clock's
            // five minutes, and while the test clock still shows real time (past 08:00 in London) it would open the round
            // with only the partners registered so far.
            builder.Configuration["AzureWebJobs:DailyTick:Disabled"] = "true";
            configure?.Invoke(builder);
        });
        return new OpelRound(app, clock, await app.ClientAsAsync("Coordinator", "QZZ", "Casey Coordinator (test)"));
    }

    public static string Ods(int n) => $"Z{n:D4}";

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static object PartnerBody(int n, bool expectedDaily = true, decimal sizeWeight = 100) => new
    {
        name = $"Synthetic Trust {n} (test)",
        sector = "acute",
        sizeWeight,
        expectedDaily,
        contacts = new[] { new { name = "Alex Oncall (test)", entraUserId = (string?)null, role = "On-call director", onCallOrder = 1 } },
    };

    /// <summary>A calm acute return (computed OPEL 1), optionally declared at another level with a reason.</summary>
    public static object Return(int? declaredLevel = null) => new
    {
        metrics = new Dictionary<string, decimal>
        {
            ["meanAmbulanceHandoverMinutes"] = 10, ["edFourHourPerformancePct"] = 85, ["edAttendanceVariationPct"] = 0,
            ["majorsResusOccupancyPct"] = 70, ["medianTimeToTreatmentMinutes"] = 45, ["edOver12HoursPct"] = 1,
            ["generalAcuteBedOccupancyPct"] = 88, ["escalationBedsPct"] = 0, ["noCriteriaToResidePct"] = 5,
        },
        declaredLevel,
        reason = declaredLevel is null ? null : "Synthetic: two wards closed (test)",
    };

    /// <summary>Registers partners as the coordinator, a few at a time.</summary>
    public async Task RegisterAsync(IEnumerable<int> partners, Func<int, object>? body = null, int concurrency = 8)
    {
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(partners.Select(async n =>
        {
            await gate.WaitAsync();
            try
            {
                var put = await Coordinator.PutAsJsonAsync($"/api/partners/{Ods(n)}", (body ?? (i => PartnerBody(i)))(n));
                put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>Sets the clock to a London wall-clock time on a day.</summary>
    public void SetLondon(DateOnly day, int hour, int minute = 0) => Clock.UtcNow = London.At(day, new TimeOnly(hour, minute));

    public DurableTaskClient Durable => App.Get<IDurableTaskClientProvider>().GetClient();

    /// <summary>The daily tick; when it starts the round, waits until the round's orchestration has opened it.</summary>
    public async Task<DateOnly?> TickAsync()
    {
        var day = await App.Get<RoundOpener>().TickAsync(Durable, CancellationToken.None);
        if (day is { } opened)
        {
            await Brokerage.EventuallyAsync(
                () => App.Get<RoundStore>().LoadAsync(opened, CancellationToken.None), r => r is { Phase: not RoundPhase.NotOpen }, "the round to open");
        }

        return day;
    }

    public async Task<JsonElement> RoundAsync(DateOnly day) => await Http.JsonAsync(await Coordinator.GetAsync($"/api/returns/{Iso(day)}"));

    /// <summary>The round's audit trail: its entries' types, in order.</summary>
    public async Task<List<string>> RoundEventsAsync(DateOnly day) => [.. await App.Get<RoundStore>().ReadHistoryTypesAsync(day, CancellationToken.None)];

    /// <summary>Tells the round to look at the (moved) clock again, or to assess now.</summary>
    public Task WakeAsync(DateOnly day, bool assessNow = false) =>
        Durable.RaiseEventAsync(RoundOrchestration.InstanceId(day), RoundOrchestration.WakeEvent, new RoundWake(assessNow));

    /// <summary>Waits until the round has made <paramref name="assessments"/> assessments; returns its view.</summary>
    public async Task<JsonElement> AssessedAsync(DateOnly day, int assessments = 1)
    {
        await Brokerage.EventuallyAsync(
            () => App.Get<RoundStore>().LoadAsync(day, CancellationToken.None), r => r?.Assessments >= assessments, $"assessment {assessments}", TimeSpan.FromSeconds(60));
        return await RoundAsync(day);
    }

    public async ValueTask DisposeAsync()
    {
        Coordinator.Dispose();
        await App.DisposeAsync();
    }
}
