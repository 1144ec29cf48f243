using System.Text.Json;
using WinterOps.Azure.Outbox;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>Timers that run late (the host was down) are decided when they run, so the windows they start are whole.</summary>
public sealed class LateTimerTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(30);

    [Fact]
    public async Task AcknowledgementTimer_TwoHoursLate_AlertsTheNextContactOnce_WithAWholeWindow()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(time: clock);
        var handler = app.Get<CommandHandler>();
        var raisedAt = clock.UtcNow;
        var date = London.Today(raisedAt);
        var key = EscalationWorkflow.Key(date, EscalationRule.PartnerAtOpel4, "RZ2");
        OnCallContact[] ladder = [new("First On Call (test)", null, "RZ2"), new("Second On Call (test)", null, "RZ2"), new("Third On Call (test)", null, "RZ2")];
        await handler.HandleAsync(
            EscalationWorkflow.Definition, key,
            new EscalationCommand.Raise(EscalationRule.PartnerAtOpel4, date, "RZ2", "RZ2 is at OPEL 4 (test)", new Dictionary<string, string>(), ladder, Window, raisedAt),
            new CommandContext("test-raise", Actor.System("test"), raisedAt));
        var firstTimer = await NextTimerAsync(app, key);

        clock.UtcNow = raisedAt + TimeSpan.FromHours(2); // the host was down: the 30-minute timer runs 90 minutes late
        var ranAt = clock.UtcNow;
        await app.Get<QueuedCommandRunner>().RunAsync(firstTimer, CancellationToken.None);
        var secondTimer = await NextTimerAsync(app, key);
        await app.Get<QueuedCommandRunner>().RunAsync(secondTimer, CancellationToken.None); // not due for another 30 minutes

        var (state, _) = await handler.LoadAsync(EscalationWorkflow.Definition, EscalationWorkflow.Definition.StreamId(key), CancellationToken.None);
        state.Alerts.Select(a => a.Contact.Name).ShouldBe(["First On Call (test)", "Second On Call (test)"]);
        state.Alerts[1].At.ShouldBe(ranAt);
        state.Alerts[1].AcknowledgeBy.ShouldBe(ranAt + Window);
        secondTimer.DueAt.ShouldBe(ranAt + Window);
    }

    [Fact]
    public void TimerCommands_RunLate_AreMovedToNow_OthersAreLeftAlone()
    {
        var due = new DateTimeOffset(2026, 11, 23, 11, 0, 0, TimeSpan.Zero);
        var late = due.AddMinutes(7);
        object[] timers =
        [
            new RoundCommand.Remind(due), new RoundCommand.Assess(due), new RoundCommand.Reassess(due), new EscalationCommand.AcknowledgementDue(2, due),
        ];

        timers.Select(t => ((ITimerCommand)TimerCommands.RunningAt(t, late)).At).ShouldAllBe(at => at == late);
        timers.Select(t => ((ITimerCommand)TimerCommands.RunningAt(t, due.AddSeconds(-1))).At).ShouldAllBe(at => at == due); // early: requeued elsewhere, never moved back
        TimerCommands.RunningAt(new EscalationCommand.AcknowledgementDue(2, due), late).ShouldBe(new EscalationCommand.AcknowledgementDue(2, late)); // the rest unchanged
        var raise = new RoundCommand.ReturnArrived("RZ1", 1, due);
        TimerCommands.RunningAt(raise, late).ShouldBeSameAs(raise); // not a timer: its time is when the return arrived
    }

    private static async Task<QueuedCommand> NextTimerAsync(TestApp app, string key)
    {
        var pending = await app.Get<IEventStore>().ReadPendingOutboxAsync(EscalationWorkflow.Definition.StreamId(key), CancellationToken.None);
        var timer = pending.Where(o => o.Kind == OutboxKinds.Command).Select(o => JsonSerializer.Deserialize<QueuedCommand>(o.Payload, WorkflowJson.Options)!)
            .Last(c => c.CommandType == "AcknowledgementDue");
        foreach (var entry in pending)
        {
            await app.Get<IEventStore>().MarkSentAsync(EscalationWorkflow.Definition.StreamId(key), entry, CancellationToken.None); // as the dispatcher would
        }

        return timer;
    }
}
