using System.Text.Json;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public sealed class OutboxTests
{
    private const string Key = "T1";
    private const string Stream = "ticket-T1";
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly WorkflowDefinition<TicketState, TicketCommand, TicketEvent> Ticket = TicketWorkflow.Definition;

    private readonly InterceptingEventStore _store = new(new InMemoryEventStore());
    private readonly RecordingOutboxSignal _signal = new();
    private readonly WorkflowCatalog _catalog = new([Ticket]);
    private readonly CommandHandler _handler;

    public OutboxTests() => _handler = new CommandHandler(_store, _catalog, _signal);

    private static CommandContext By(string commandId, DateTimeOffset? at = null) => new(commandId, Actor.System("tests"), at ?? T0);

    private Task<CommandResult<TicketState>> Send(TicketCommand command, string commandId, DateTimeOffset? at = null) =>
        _handler.HandleAsync(Ticket, Key, command, By(commandId, at));

    private Task<IReadOnlyList<OutboxEntry>> Pending() => _store.ReadPendingOutboxAsync(Stream, CancellationToken.None);

    private async Task<StoredHead> Head() => (await _store.ReadHeadAsync(Stream, CancellationToken.None)).ShouldNotBeNull();

    [Fact]
    public async Task Reactions_AreWrittenInTheSameAppendAsTheirEvent()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        var append = _store.Appends.ShouldHaveSingleItem();
        append.Events.Count.ShouldBe(1);
        append.Outbox.Select(o => o.Kind).ShouldBe([OutboxKinds.Command, OutboxKinds.Notification]);
        append.PendingSince.ShouldBe(T0);
    }

    [Fact]
    public async Task Reactions_GetDeterministicIdsFromStreamVersionAndIndex()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        await Send(new TicketCommand.Add(2), "add-1");
        await Send(new TicketCommand.Close(), "close-1");

        var pending = await Pending();

        pending.Select(o => (o.Id, o.Kind)).ShouldBe(
        [
            ("ticket-T1.0000000001.0", OutboxKinds.Command),
            ("ticket-T1.0000000001.1", OutboxKinds.Notification),
            ("ticket-T1.0000000003.0", OutboxKinds.Notification),
        ]);
        pending.ShouldAllBe(o => o.CreatedAt == T0 && !o.Sent);
    }

    [Fact]
    public async Task Reactions_MarkTheHeadPendingAndSignalTheStream()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        (await Head()).PendingSince.ShouldBe(T0);
        _signal.Streams.ShouldBe([Stream]);
    }

    [Fact]
    public async Task Command_WithoutReactions_DoesNotSignalOrMarkPending()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var head = await Head();
        (await _store.TryClearPendingAsync(Stream, head.ETag, CancellationToken.None)).ShouldBeTrue();

        await Send(new TicketCommand.Add(1), "add-1", T0.AddMinutes(5));

        (await Head()).PendingSince.ShouldBeNull();
        _signal.Streams.ShouldBe([Stream]);
    }

    [Fact]
    public async Task PendingSince_WhileUndelivered_KeepsTheOldestTime()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        await Send(new TicketCommand.Close(), "close-1", T0.AddHours(1));

        (await Head()).PendingSince.ShouldBe(T0);
        _signal.Streams.ShouldBe([Stream, Stream]);
    }

    [Fact]
    public async Task PendingSince_AfterClearing_IsTheTimeOfTheNextReaction()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        (await _store.TryClearPendingAsync(Stream, (await Head()).ETag, CancellationToken.None)).ShouldBeTrue();

        await Send(new TicketCommand.Close(), "close-1", T0.AddHours(1));

        (await Head()).PendingSince.ShouldBe(T0.AddHours(1));
    }

    [Fact]
    public async Task Send_IsQueuedWithDueTimeTargetAndOutboxIdAsCommandId()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var entry = (await Pending()).Single(o => o.Kind == OutboxKinds.Command);

        var queued = JsonSerializer.Deserialize<QueuedCommand>(entry.Payload, WorkflowJson.Options).ShouldNotBeNull();

        var due = T0 + TicketWorkflow.Deadline;
        queued.Workflow.ShouldBe(TicketWorkflow.Name);
        queued.Key.ShouldBe(Key);
        queued.DueAt.ShouldBe(due);
        queued.CommandId.ShouldBe(entry.Id);
        queued.CausedBy.ShouldBe(Stream);
        queued.CommandType.ShouldBe("TicketTimeout");
        Ticket.Commands.Deserialize(queued.CommandType, queued.Command).ShouldBe(new TicketCommand.Timeout(due));
    }

    [Fact]
    public async Task Notify_IsQueuedAsTheNotificationItself()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var entry = (await Pending()).Single(o => o.Kind == OutboxKinds.Notification);

        var notification = JsonSerializer.Deserialize<Notification>(entry.Payload, WorkflowJson.Options).ShouldNotBeNull();

        notification.Type.ShouldBe("TicketOpened");
        notification.To.ShouldBe(Recipient.Role("Coordinator"));
        notification.Subject.ShouldBe(Stream);
        notification.Data.ShouldBe(new Dictionary<string, string> { ["key"] = Key });
    }

    [Fact]
    public async Task Timer_WhenDeliveredToAnOpenTicket_TimesItOut()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        var outcome = await Deliver(await QueuedTimer());

        outcome.NewEvents.ShouldBe(1);
        outcome.Version.ShouldBe(2);
        (await _handler.LoadAsync(Ticket, Stream, CancellationToken.None)).State.ShouldBe(new TicketState.TimedOut(Key, 0));
    }

    [Fact]
    public async Task Timer_WhenTheTicketClosedFirst_IsIgnored()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var timer = await QueuedTimer();
        await Send(new TicketCommand.Close(), "close-1");

        var outcome = await Deliver(timer);

        outcome.NewEvents.ShouldBe(0);
        outcome.Version.ShouldBe(2);
        (await _handler.LoadAsync(Ticket, Stream, CancellationToken.None)).State.ShouldBe(new TicketState.Closed(Key, 0));
    }

    [Fact]
    public async Task Timer_DeliveredTwice_TimesOutOnce()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var timer = await QueuedTimer();

        await Deliver(timer);
        var again = await Deliver(timer);

        again.NewEvents.ShouldBe(0);
        (await _store.ReadEventsAsync(Stream, CancellationToken.None)).Select(e => e.Type).ShouldBe(["TicketOpened", "TicketTimedOut"]);
    }

    private async Task<QueuedCommand> QueuedTimer()
    {
        var entry = (await Pending()).Single(o => o.Kind == OutboxKinds.Command);
        return JsonSerializer.Deserialize<QueuedCommand>(entry.Payload, WorkflowJson.Options).ShouldNotBeNull();
    }

    private Task<CommandOutcome> Deliver(QueuedCommand queued) =>
        _catalog.Get(queued.Workflow).HandleSerializedAsync(
            _handler, queued.Key, queued.CommandType, queued.Command,
            new CommandContext(queued.CommandId, Actor.System("timer"), queued.DueAt ?? T0), CancellationToken.None);
}
