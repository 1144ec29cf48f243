using System.Text.Json;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Tests;

public class OutboxAndTimerTests
{
    [Fact]
    public async Task CrashBetweenCommitAndDispatch_SweeperDeliversEachMessageOnce()
    {
        var dropped = new DroppedSignal();
        var engine = await Engine.StartAsync(dropped);
        var due = engine.Time.GetUtcNow();
        await engine.SendAsync("crash", new ReminderWorkflow.Command.SetFor(due));
        await engine.SendAsync("crash", new ReminderWorkflow.Command.Fire(due));
        dropped.Dropped.ShouldBe(2);

        (await engine.Sweeper.SweepAsync(default)).ShouldBe(0); // not stale yet: the dispatch queue still has time
        engine.Time.Advance(TimeSpan.FromMinutes(3));
        (await engine.Sweeper.SweepAsync(default)).ShouldBe(1);
        (await engine.Sweeper.SweepAsync(default)).ShouldBe(0); // marker cleared
        await engine.Dispatcher.DispatchAsync("reminder-crash", default); // a late duplicate dispatch

        var inbox = (await engine.Inbox.ReadAsync([Recipient.Role("Coordinator")], null, null, 50, default)).Items;
        inbox.Select(i => i.Id).ShouldBe(["reminder-crash.0000000002.0"]);
        (await engine.Store.ReadPendingOutboxAsync("reminder-crash", default)).ShouldBeEmpty();
        (await engine.Store.ReadHeadAsync("reminder-crash", default))!.PendingSince.ShouldBeNull();
        var commands = await engine.Storage.Queue(StorageNames.CommandsQueue).ReceiveMessagesAsync(32);
        commands.Value.Length.ShouldBe(1); // the due timer went straight to the commands queue, once
    }

    [Fact]
    public async Task RedeliveredNotification_OverwritesItselfInTheInbox()
    {
        var engine = await Engine.StartAsync();
        var notification = new Notification("ReminderFired", Recipient.Org("RZ1"), "t", "s", new Dictionary<string, string>());

        await engine.Inbox.DeliverAsync("m-1", notification, engine.Time.GetUtcNow(), default);
        await engine.Inbox.DeliverAsync("m-1", notification, engine.Time.GetUtcNow(), default);

        (await engine.Inbox.ReadAsync([Recipient.Org("RZ1")], null, null, 10, default)).Items.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Timer_FiresAfterItsDelay()
    {
        var engine = await Engine.StartAsync();
        var due = engine.Time.GetUtcNow().AddSeconds(2);
        await engine.SendAsync("t1", new ReminderWorkflow.Command.SetFor(due));
        await engine.Dispatcher.DispatchAsync("reminder-t1", default);
        var timers = engine.Storage.Queue(StorageNames.TimersQueue);

        (await timers.ReceiveMessagesAsync(1)).Value.ShouldBeEmpty(); // hidden until due

        var message = await WaitForMessageAsync(timers);
        engine.Time.Advance(TimeSpan.FromSeconds(2));
        await engine.Runner.RunAsync(JsonSerializer.Deserialize<QueuedCommand>(message, WorkflowJson.Options)!, default);

        var (state, _) = await engine.Handler.LoadAsync(ReminderWorkflow.Definition, "reminder-t1", default);
        state.Phase.ShouldBe("fired");
    }

    [Fact]
    public async Task Timer_ThatNoLongerApplies_ChangesNothing()
    {
        var engine = await Engine.StartAsync();
        var due = engine.Time.GetUtcNow().AddMinutes(30);
        await engine.SendAsync("t2", new ReminderWorkflow.Command.SetFor(due));
        await engine.SendAsync("t2", new ReminderWorkflow.Command.Dismiss());
        engine.Time.Advance(TimeSpan.FromMinutes(30));
        var timer = JsonSerializer.Deserialize<QueuedCommand>((await engine.Store.ReadPendingOutboxAsync("reminder-t2", default))[0].Payload, WorkflowJson.Options)!;

        await engine.Runner.RunAsync(timer, default);

        (await engine.Store.ReadHeadAsync("reminder-t2", default))!.Version.ShouldBe(2);
    }

    [Fact]
    public async Task TimerBeyondSevenDays_IsChainedUntilDue()
    {
        var engine = await Engine.StartAsync();
        var due = engine.Time.GetUtcNow().AddDays(10);
        await engine.SendAsync("t3", new ReminderWorkflow.Command.SetFor(due));
        var timer = JsonSerializer.Deserialize<QueuedCommand>((await engine.Store.ReadPendingOutboxAsync("reminder-t3", default))[0].Payload, WorkflowJson.Options)!;

        engine.Time.Advance(TimeSpan.FromDays(7)); // the first 7-day hop ends early
        await engine.Runner.RunAsync(timer, default);

        (await engine.Handler.LoadAsync(ReminderWorkflow.Definition, "reminder-t3", default)).State.Phase.ShouldBe("waiting");
        var requeued = await engine.Storage.Queue(StorageNames.TimersQueue).PeekMessagesAsync(1);
        requeued.Value.ShouldBeEmpty(); // hidden for the remaining 3 days
        var properties = await engine.Storage.Queue(StorageNames.TimersQueue).GetPropertiesAsync();
        properties.Value.ApproximateMessagesCount.ShouldBe(1);
    }

    [Fact]
    public async Task ACommandRetriedLater_GoesBackOnItsOwnQueue_Hidden()
    {
        var engine = await Engine.StartAsync();
        var command = new QueuedCommand("reminder", "r9", "Dismiss", "{}", "outbox-id-1", null, "test");

        await engine.Queues.RetryLaterAsync(command, TimeSpan.FromSeconds(30), default);

        var commands = engine.Storage.Queue(StorageNames.CommandsQueue);
        (await commands.ReceiveMessagesAsync(1)).Value.ShouldBeEmpty();
        (await commands.GetPropertiesAsync()).Value.ApproximateMessagesCount.ShouldBe(1);
        (await engine.Storage.Queue(StorageNames.TimersQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount.ShouldBe(0);
    }

    private static async Task<string> WaitForMessageAsync(global::Azure.Storage.Queues.QueueClient queue)
    {
        for (var i = 0; i < 300; i++)
        {
            var received = await queue.ReceiveMessagesAsync(1);
            if (received.Value.Length > 0)
            {
                return received.Value[0].MessageText;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The timer message never became visible.");
    }
}
