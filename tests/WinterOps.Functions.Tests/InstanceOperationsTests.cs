using System.Net;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.Operations;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

/// <summary>
/// The coordinators' view of the workflow instances on the local Durable engine: a failed one is listed with its
/// error, told to the coordination centre once, and started again from its input; only a failed one can be; old
/// finished histories are purged and failed ones kept.
/// </summary>
public sealed class InstanceOperationsTests
{
    [Fact]
    public async Task AFailedInstance_IsListedWithItsError_ToldOnce_AndStartedAgainFromItsInput()
    {
        await using var app = await TestApp.StartAsync();
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        var id = $"delivery-broken-{Guid.NewGuid():N}";

        // A delivery whose input names no channels: the orchestration faults at once (a bug's stand-in).
        await durable.ScheduleNewOrchestrationInstanceAsync(DeliveryOrchestration.Name, new { outboxId = "x", channels = (string[]?)null }, new StartOrchestrationOptions(id));
        var failed = await durable.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
        failed.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Failed);

        var listed = await Http.JsonAsync(await coordinator.GetAsync("/api/operations/instances?kind=delivery&status=failed"));
        var item = listed.EnumerateArray().Single(i => i.GetProperty("instanceId").GetString() == id);
        (item.GetProperty("kind").GetString(), item.GetProperty("status").GetString()).ShouldBe(("delivery", "failed"));
        item.GetProperty("failure").GetProperty("message").GetString().ShouldNotBeNullOrWhiteSpace();
        (await Http.JsonAsync(await coordinator.GetAsync("/api/operations/instances?kind=placement&status=failed")))
            .EnumerateArray().ShouldNotContain(i => i.GetProperty("instanceId").GetString() == id);

        // The watch tells the coordinators, once however often it runs.
        var watch = ActivatorUtilities.CreateInstance<InstanceTimers>(app.Services);
        await watch.InstanceWatch(new TimerInfo(), durable, CancellationToken.None);
        await watch.InstanceWatch(new TimerInfo(), durable, CancellationToken.None);
        var told = (await Brokerage.InboxAsync(coordinator)).EnumerateArray().Where(i => i.GetProperty("type").GetString() == "InstanceFailed").ToList();
        told.ShouldHaveSingleItem().GetProperty("data").GetProperty("instanceId").GetString().ShouldBe(id);

        // Started again from the same input, under the same id: it runs (and, the input being what it is, fails) again.
        var restart = await coordinator.PostAsync($"/api/operations/instances/{id}/restart", null);
        restart.StatusCode.ShouldBe(HttpStatusCode.Accepted, await restart.Content.ReadAsStringAsync());
        var again = await Brokerage.EventuallyAsync(
            async () => await durable.GetInstanceAsync(id, getInputsAndOutputs: true),
            i => i is not null && i.RuntimeStatus == OrchestrationRuntimeStatus.Failed && i.CreatedAt > failed.CreatedAt, "the restarted run");
        JsonDocument.Parse(again!.SerializedInput!).RootElement.GetProperty("outboxId").GetString().ShouldBe("x");
    }

    [Fact]
    public async Task OnlyAFailedInstance_CanBeStartedAgain_AndBadQueriesAreRefused()
    {
        await using var app = await TestApp.StartAsync();
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        var id = $"delivery-done-{Guid.NewGuid():N}";
        await durable.ScheduleNewOrchestrationInstanceAsync(DeliveryOrchestration.Name, Input(), new StartOrchestrationOptions(id));
        (await durable.WaitForInstanceCompletionAsync(id)).RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Completed);

        var refused = await coordinator.PostAsync($"/api/operations/instances/{id}/restart", null);
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await Http.ProblemAsync(refused)).GetProperty("detail").GetString()!.ShouldContain("completed");
        (await coordinator.PostAsync("/api/operations/instances/no-such-instance/restart", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        foreach (var query in new[] { "kind=parcel", "status=lost", "olderThan=two%20hours", "limit=0" })
        {
            var bad = await coordinator.GetAsync($"/api/operations/instances?{query}");
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest, query);
            bad.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        }

        var completed = await Http.JsonAsync(await coordinator.GetAsync("/api/operations/instances?kind=delivery&status=completed"));
        completed.EnumerateArray().Select(i => i.GetProperty("instanceId").GetString()).ShouldContain(id);
        var older = await Http.JsonAsync(await coordinator.GetAsync("/api/operations/instances?kind=delivery&olderThan=P1D"));
        older.EnumerateArray().Select(i => i.GetProperty("instanceId").GetString()).ShouldNotContain(id); // created just now
    }

    [Fact]
    public async Task ThePurge_RemovesOldFinishedHistories_AndKeepsFailedOnes()
    {
        await using var app = await TestApp.StartAsync(configure: b => b.Configuration["Operations:PurgeCompletedAfter"] = "00:00:00");
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        var done = $"delivery-done-{Guid.NewGuid():N}";
        var broken = $"delivery-broken-{Guid.NewGuid():N}";
        await durable.ScheduleNewOrchestrationInstanceAsync(DeliveryOrchestration.Name, Input(), new StartOrchestrationOptions(done));
        await durable.ScheduleNewOrchestrationInstanceAsync(DeliveryOrchestration.Name, new { outboxId = "x" }, new StartOrchestrationOptions(broken));
        await durable.WaitForInstanceCompletionAsync(done);
        await durable.WaitForInstanceCompletionAsync(broken);

        await ActivatorUtilities.CreateInstance<InstanceTimers>(app.Services).PurgeInstances(new TimerInfo(), durable, CancellationToken.None);

        (await durable.GetInstanceAsync(done)).ShouldBeNull();
        (await durable.GetInstanceAsync(broken))!.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Failed);
    }

    /// <summary>A delivery to no channel: it completes at once.</summary>
    private static DeliveryInput Input() => new(
        "n", "w", new Core.Workflows.Notification("PlacementOffered", Core.Workflows.Recipient.Org("1-0"), "t", "s", new Dictionary<string, string>()),
        DateTimeOffset.UnixEpoch, [], 1, TimeSpan.FromSeconds(1));
}
