using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using WinterOps.Azure.Notifications;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Tests.Opel;
using WinterOps.Functions.Tests.Placements;
using WinterOps.LocalHost;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Hosting;

/// <summary>
/// Changing a workflow safely starts here: a no-op rebuild. One running instance of each workflow is left at its
/// waiting point, the app is stopped gracefully, and a fresh one (the same code and settings, a new host, the same
/// storage prefix and task hub on the same Azurite, the same clock) is started. Each instance replays its history on
/// the new host and carries on as it would have: the event or timer it was waiting for moves it to its usual next state.
/// </summary>
public sealed class ReplayAcrossRebuildTests
{
    private const string AcknowledgeNote = "On it, after the rebuild (test)";

    private static readonly string Home = Cqc(1);

    // Z0001 reports OPEL 4 (the escalation) and, with Z0002 and Z0003, makes up the round; Z0009 is registered while
    // Service Bus is down (the delivery) and is not expected daily, so the round does not miss it.
    private static readonly string AtOpel4 = OpelRound.Ods(1);
    private static readonly string Newcomer = OpelRound.Ods(9);

    [Fact]
    public async Task EachWorkflowWaiting_WhenTheAppIsRebuilt_ReplaysOnTheNewHost_AndCarriesOn()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var bus = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
        void Settings(WebApplicationBuilder b)
        {
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString;

            // Long enough that the retry is still to come when the first app stops, short enough not to slow the test.
            b.Configuration["Notifications:FirstRetry"] = "00:00:15";
            b.Configuration["Escalations:Rules:0"] = "PartnerAtOpel4"; // the one escalation; the round's assessment raises no other
        }

        var day = London.Today(clock.UtcNow);
        var round = RoundOrchestration.InstanceId(day);
        var escalationId = EscalationWorkflow.Key(day, EscalationRule.PartnerAtOpel4, AtOpel4);
        var escalation = EscalationOrchestration.InstanceId(escalationId);
        var delivery = DeliveryOrchestration.InstanceId(PartnerRules.AnnouncementId(Newcomer));
        string placement, prefix, hub;
        int transfersWhenDown;
        Dictionary<string, OrchestrationMetadata> waiting;

        await using (var first = await StartAsync(time: clock, configure: Settings))
        {
            var durable = first.App.Get<IDurableTaskClientProvider>().GetClient();
            using var reporter = await first.App.ClientAsAsync("Partner", AtOpel4, "Pat Reporter (test)");
            await first.BrokerAsync(Home); // signed in now, while the clock shows real time, for AddHomeAsync below

            // Tokens are issued; now the morning of the round (as in OpelRound).
            clock.UtcNow = London.At(day, new TimeOnly(8, 0));
            await RegisterAsync(first.Coordinator, 1, 2, 3);

            // The round: opened, waiting for its deadline.
            (await first.App.Get<RoundOpener>().TickAsync(durable, CancellationToken.None)).ShouldBe(day);
            await ShowsAsync(durable, round, s => s.GetProperty("phase").GetString() == "collecting", "the round to wait for its deadline");

            // The escalation: raised by Z0001's return at OPEL 4, its first alert sent, waiting for an acknowledgement.
            clock.UtcNow = London.At(day, new TimeOnly(8, 5));
            (await reporter.PutAsJsonAsync(ReturnPath(day, 1), OpelRound.Return(declaredLevel: 4))).EnsureSuccessStatusCode();
            await ShowsAsync(durable, escalation, s => s.GetProperty("status").GetString() == "alerted" && s.GetProperty("step").GetInt32() == 1,
                "the escalation to wait for an acknowledgement");

            // The placement: requested, its offer open, waiting for the home's broker.
            await first.AddHomeAsync(Home);
            placement = Id(await first.RequestAsync());
            await first.SettledAsync(placement);
            var offered = await first.GetPlacementAsync(placement);
            (Status(offered), OfferStatus(offered, Home)).ShouldBe(("awaitingResponses", "open"));

            // The delivery: every notice so far has reached Service Bus; then it is down, and the newcomer's waits on a retry.
            await NoDeliveryRunningAsync(durable);
            bus.Messages.ShouldNotBeEmpty();
            transfersWhenDown = bus.Transfers;
            await bus.StopAsync();
            await RegisterAsync(first.Coordinator, 9);
            await EventuallyAsync(() => HistoryAsync(first.App, delivery), h => h.Contains("TimerCreated"), "the delivery to wait on a retry");

            waiting = await InstancesAsync(durable, placement, round, escalation, delivery);
            waiting.Values.ShouldAllBe(i => i.RuntimeStatus == OrchestrationRuntimeStatus.Running);
            (await HistoryAsync(first.App, delivery)).ShouldNotContain("TimerFired"); // still waiting when the app stops
            prefix = first.App.Prefix;
            hub = LocalHostApp.TaskHubName(first.App.Services);
        } // a graceful stop

        bus.Messages.ShouldNotContain(m => m.MessageId == PartnerRules.AnnouncementId(Newcomer));
        await bus.RestartAsync();

        // Dev tokens are signed with a key made at start and checked against real time: the new app starts and signs
        // everyone in while the clock shows real time, and then the clock goes back to where the first app left it.
        var leftAt = clock.UtcNow;
        clock.UtcNow = DateTimeOffset.UtcNow;
        await using var second = await StartAsync(time: clock, configure: Settings, prefix: prefix);
        var broker = await second.BrokerAsync(Home);
        using var executive = await second.App.ClientAsAsync("Executive", "QZZ", "Exec On Call (test)");
        using var reporter2 = await second.App.ClientAsAsync("Partner", OpelRound.Ods(2), "Reporter 2 (test)");
        using var reporter3 = await second.App.ClientAsAsync("Partner", OpelRound.Ods(3), "Reporter 3 (test)");
        clock.UtcNow = leftAt;
        LocalHostApp.TaskHubName(second.App.Services).ShouldBe(hub);
        var durableAfter = second.App.Get<IDurableTaskClientProvider>().GetClient();

        // The delivery: its retry, on the new host with the broker back, delivers the message once.
        var delivered = await EventuallyAsync(
            () => durableAfter.GetInstanceAsync(delivery), i => i?.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed,
            "the delivery to finish");
        delivered!.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Completed, delivered.FailureDetails?.ErrorMessage);
        bus.Messages.Count(m => m.MessageId == PartnerRules.AnnouncementId(Newcomer)).ShouldBe(1);
        bus.Transfers.ShouldBe(transfersWhenDown + 1); // one send since the broker went down: not one per host
        (await Http.JsonAsync(await second.Coordinator.GetAsync("/api/operations/dead-letters"))).GetArrayLength().ShouldBe(0);

        // The escalation: acknowledged, and recorded.
        var acknowledged = await executive.PostAsJsonAsync($"/api/escalations/{escalationId}/acknowledge", new { note = AcknowledgeNote });
        acknowledged.StatusCode.ShouldBe(HttpStatusCode.OK, await acknowledged.Content.ReadAsStringAsync());
        var recorded = await Http.JsonAsync(await executive.GetAsync($"/api/escalations/{escalationId}"));
        recorded.GetProperty("status").GetString().ShouldBe("acknowledged");
        recorded.GetProperty("acknowledgement").GetProperty("note").GetString().ShouldBe(AcknowledgeNote);
        recorded.GetProperty("alerts").GetArrayLength().ShouldBe(1);

        // The placement: the broker accepts the open offer, and the placement is booked with a bed reserved, as usual.
        var accepted = await second.AcceptAsync(placement, Home, caller: broker);
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        var booked = await Http.JsonAsync(accepted);
        Status(booked).ShouldBe("booked");
        booked.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(Home);
        (await second.HeldAsync(Home)).ShouldBe(1);
        await second.SettledAsync(placement);

        // The round: the other returns arrive, and the wake after the deadline assesses it.
        clock.UtcNow = London.At(day, new TimeOnly(9, 15));
        (await reporter2.PutAsJsonAsync(ReturnPath(day, 2), OpelRound.Return())).EnsureSuccessStatusCode();
        (await reporter3.PutAsJsonAsync(ReturnPath(day, 3), OpelRound.Return())).EnsureSuccessStatusCode();

        clock.UtcNow = London.At(day, new TimeOnly(11, 0));
        await durableAfter.RaiseEventAsync(round, RoundOrchestration.WakeEvent, new RoundWake(AssessNow: false));
        await EventuallyAsync(() => second.App.Get<RoundStore>().LoadAsync(day, CancellationToken.None), r => r?.Assessments >= 1, "the assessment");
        var assessed = await Http.JsonAsync(await second.Coordinator.GetAsync($"/api/returns/{OpelRound.Iso(day)}"));
        assessed.GetProperty("status").GetString().ShouldBe("assessed");
        assessed.GetProperty("received").GetInt32().ShouldBe(3);
        assessed.GetProperty("missing").GetArrayLength().ShouldBe(0);
        assessed.GetProperty("systemLevel").GetInt32().ShouldBe(2); // (4 + 1 + 1) / 3: partners of equal size
        (await second.App.Get<RoundStore>().ReadHistoryTypesAsync(day, CancellationToken.None)).ShouldBe(["RoundOpened", "RoundAssessed"]);

        // The same four instances, not new ones, and none failed: the booked placement waits for its admission, the
        // round for late returns until midnight, the acknowledged escalation for the end of its day; the delivery is done.
        var after = await InstancesAsync(durableAfter, placement, round, escalation, delivery);
        foreach (var (id, before) in waiting)
        {
            (after[id].InstanceId, after[id].CreatedAt).ShouldBe((before.InstanceId, before.CreatedAt), id);
            after[id].RuntimeStatus.ShouldNotBe(OrchestrationRuntimeStatus.Failed, $"{id}: {after[id].FailureDetails?.ErrorMessage}");
        }

        after.ToDictionary(i => i.Key, i => i.Value.RuntimeStatus).ShouldBe(new Dictionary<string, OrchestrationRuntimeStatus>
        {
            [placement] = OrchestrationRuntimeStatus.Running,
            [round] = OrchestrationRuntimeStatus.Running,
            [escalation] = OrchestrationRuntimeStatus.Running,
            [delivery] = OrchestrationRuntimeStatus.Completed,
        });
        var failed = new List<string>();
        await foreach (var instance in durableAfter.GetAllInstancesAsync(new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Failed] }))
        {
            failed.Add($"{instance.InstanceId}: {instance.FailureDetails?.ErrorMessage}");
        }

        failed.ShouldBeEmpty(); // nor any other instance in the task hub
    }

    private static string ReturnPath(DateOnly day, int partner) => $"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(partner)}";

    private static async Task RegisterAsync(HttpClient coordinator, params int[] partners)
    {
        foreach (var n in partners)
        {
            var put = await coordinator.PutAsJsonAsync($"/api/partners/{OpelRound.Ods(n)}", OpelRound.PartnerBody(n, expectedDaily: OpelRound.Ods(n) != Newcomer));
            put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        }
    }

    /// <summary>Waits until the instance shows (its custom status, saved as it waits) what <paramref name="done"/> asks for.</summary>
    private static Task<JsonElement> ShowsAsync(DurableTaskClient durable, string instanceId, Func<JsonElement, bool> done, string what) =>
        EventuallyAsync(
            async () => (await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: true))?.SerializedCustomStatus is { } status
                ? JsonSerializer.Deserialize<JsonElement>(status)
                : default,
            status => status.ValueKind == JsonValueKind.Object && done(status),
            what);

    /// <summary>Waits until every delivery started so far has finished.</summary>
    private static Task<int> NoDeliveryRunningAsync(DurableTaskClient durable) =>
        EventuallyAsync(
            async () =>
            {
                var running = 0;
                await foreach (var instance in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "delivery-" }))
                {
                    running += instance.IsRunning || instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending ? 1 : 0;
                }

                return running;
            },
            running => running == 0,
            "the deliveries to finish");

    /// <summary>
    /// The types of an instance's history events, oldest first, from the task hub's History table (on the local host,
    /// the Durable client's GetOrchestrationHistoryAsync answers with no events).
    /// </summary>
    private static async Task<string> HistoryAsync(TestApp app, string instanceId)
    {
        var connection = app.Get<IConfiguration>()["AzureWebJobsStorage"];
        var table = new TableClient(connection, LocalHostApp.TaskHubName(app.Services) + "History");
        var events = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(r => r.PartitionKey == instanceId, select: ["EventType"]))
        {
            if (row.GetString("EventType") is { } type)
            {
                events.Add(type);
            }
        }

        return string.Join(", ", events);
    }

    private static async Task<Dictionary<string, OrchestrationMetadata>> InstancesAsync(DurableTaskClient durable, params string[] instanceIds)
    {
        var instances = new Dictionary<string, OrchestrationMetadata>();
        foreach (var id in instanceIds)
        {
            instances[id] = (await durable.GetInstanceAsync(id)).ShouldNotBeNull(id);
        }

        return instances;
    }
}
