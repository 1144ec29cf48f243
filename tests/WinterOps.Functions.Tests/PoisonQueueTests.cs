using System.Net;
using System.Text.Json;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class PoisonQueueTests
{
    [Fact]
    public async Task FailedMessages_AreReportedToCoordinators_AndCanBePutBack()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var poison = app.Get<StorageAccount>().Queue($"{StorageNames.CommandsQueue}-poison");
        await poison.CreateIfNotExistsAsync();
        await poison.SendMessageAsync("""{"workflow":"partner","key":"RZ1","commandType":"SetPartnerDetails","command":"{}","commandId":"c1","causedBy":"test"}""");

        var alerted = await app.Get<PoisonQueues>().WatchAsync(default);
        await app.Get<PoisonQueues>().WatchAsync(default); // the next check (every 15 minutes) updates the hour's notice, adds none
        var depths = await Http.JsonAsync(await coordinator.GetAsync("/api/operations/queues"));
        var inbox = await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"));
        var redriven = await Http.JsonAsync(await coordinator.PostAsync($"/api/operations/queues/{StorageNames.CommandsQueue}/redrive", null));
        var after = await Http.JsonAsync(await coordinator.GetAsync("/api/operations/queues"));

        alerted.ShouldBe(1);
        Depth(depths, StorageNames.CommandsQueue).GetProperty("poisoned").GetInt32().ShouldBe(1);
        inbox.EnumerateArray().Select(i => i.GetProperty("type").GetString()).ShouldBe(["QueueMessagesFailed"]);
        redriven.GetProperty("moved").GetInt32().ShouldBe(1);
        Depth(after, StorageNames.CommandsQueue).GetProperty("poisoned").GetInt32().ShouldBe(0);
        Depth(after, StorageNames.CommandsQueue).GetProperty("waiting").GetInt32().ShouldBe(1);
        (await coordinator.PostAsync("/api/operations/queues/nope/redrive", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await (await app.ClientAsAsync("Partner", "RZ1")).GetAsync("/api/operations/queues")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Redrive_OfAQueueWhosePoisonQueueWasNeverCreated_MovesNothing()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var redriven = await Http.JsonAsync(await coordinator.PostAsync($"/api/operations/queues/{StorageNames.TimersQueue}/redrive", null));

        redriven.GetProperty("moved").GetInt32().ShouldBe(0);
    }

    private static JsonElement Depth(JsonElement depths, string queue) =>
        depths.EnumerateArray().Single(d => d.GetProperty("queue").GetString() == queue);
}
