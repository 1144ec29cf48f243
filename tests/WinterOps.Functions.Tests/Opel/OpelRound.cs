using WinterOps.Functions.Engine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
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
        var app = await TestApp.StartAsync(localTriggers: localTriggers, time: clock, configure: configure);
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

    public Task<DateOnly?> TickAsync() => App.Get<RoundOpener>().TickAsync(CancellationToken.None);

    public async Task<JsonElement> RoundAsync(DateOnly day) => await Http.JsonAsync(await Coordinator.GetAsync($"/api/returns/{Iso(day)}"));

    /// <summary>The round's stored event types, in order.</summary>
    public async Task<List<string>> RoundEventsAsync(DateOnly day) =>
        (await App.Get<IEventStore>().ReadEventsAsync(RoundWorkflow.Definition.StreamId(RoundWorkflow.Key(day)), CancellationToken.None))
            .Select(e => e.Type).ToList();

    /// <summary>Runs a round command as the engine's WorkflowCommands queue does when a message (or a due timer) arrives.</summary>
    public async Task RunRoundCommandAsync(DateOnly day, RoundCommand command, string commandId, DateTimeOffset? dueAt = null)
    {
        var names = RoundWorkflow.Definition.Commands;
        var queued = new QueuedCommand(RoundWorkflow.Name, RoundWorkflow.Key(day), names.NameOf(command), names.Serialize(command), commandId, dueAt, "test");
        var commands = EngineQueues.All.Single(q => q.Name == "WorkflowCommands");
        (await EngineQueues.HandleAsync(commands, App.Services, JsonSerializer.Serialize(queued, WorkflowJson.Options), CancellationToken.None)).ShouldBeTrue();
    }

    public async ValueTask DisposeAsync()
    {
        Coordinator.Dispose();
        await App.DisposeAsync();
    }
}
