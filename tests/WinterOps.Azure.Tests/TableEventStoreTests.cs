using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Tests;

public class TableEventStoreTests
{
    [Fact]
    public async Task Command_AppendsEventsHeadAndOutbox_Together()
    {
        var engine = await Engine.StartAsync();
        var due = engine.Time.GetUtcNow().AddHours(4);

        var result = await engine.SendAsync("r1", new ReminderWorkflow.Command.SetFor(due));

        result.Version.ShouldBe(1);
        var head = (await engine.Store.ReadHeadAsync("reminder-r1", default))!;
        head.Version.ShouldBe(1);
        head.PendingSince.ShouldBe(engine.Time.GetUtcNow());
        var events = await engine.Store.ReadEventsAsync("reminder-r1", default);
        events.Select(e => (e.Version, e.Type, e.ByName, e.ByRole, e.ByOrg)).ShouldBe([(1L, "ReminderSet", "Test User", "Coordinator", "QZZ")]);
        var outbox = await engine.Store.ReadPendingOutboxAsync("reminder-r1", default);
        outbox.Select(o => (o.Id, o.Kind)).ShouldBe([("reminder-r1.0000000001.0", OutboxKinds.Command)]);
    }

    [Fact]
    public async Task ThirtyTwoConcurrentCommands_OnOneStream_LoseNothing()
    {
        var engine = await Engine.StartAsync();
        await engine.SendAsync("busy", new ReminderWorkflow.Command.SetFor(engine.Time.GetUtcNow().AddDays(1)));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            try
            {
                return (await engine.SendAsync("busy", new ReminderWorkflow.Command.AddNote($"note {i}"))).Version;
            }
            catch (ConcurrencyException)
            {
                return -1L;
            }
        })));

        var applied = outcomes.Where(v => v > 0).ToList();
        var events = await engine.Store.ReadEventsAsync("reminder-busy", default);
        events.Select(e => e.Version).ShouldBe(Enumerable.Range(1, events.Count).Select(v => (long)v));
        applied.Order().ShouldBe(events.Skip(1).Select(e => e.Version));
        var (state, head) = await engine.Handler.LoadAsync(ReminderWorkflow.Definition, "reminder-busy", default);
        state.Notes.ShouldBe(applied.Count);
        head!.Version.ShouldBe(1 + applied.Count);
        applied.Count.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task SameCommandId_Twice_AppliesOnce()
    {
        var engine = await Engine.StartAsync();
        await engine.SendAsync("dup", new ReminderWorkflow.Command.SetFor(engine.Time.GetUtcNow().AddDays(1)));

        var first = await engine.SendAsync("dup", new ReminderWorkflow.Command.AddNote("once"), commandId: "cmd-42");
        var second = await engine.SendAsync("dup", new ReminderWorkflow.Command.AddNote("once"), commandId: "cmd-42");

        first.NewEvents.Count.ShouldBe(1);
        second.AlreadyApplied.ShouldBeTrue();
        second.NewEvents.ShouldBeEmpty();
        second.Version.ShouldBe(2);
        (await engine.Store.ReadEventsAsync("reminder-dup", default)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task FailedTransaction_LeavesNoEventHeadOrOutboxBehind()
    {
        var engine = await Engine.StartAsync();
        await engine.SendAsync("tx", new ReminderWorkflow.Command.SetFor(engine.Time.GetUtcNow().AddDays(1)), commandId: "first");
        var head = (await engine.Store.ReadHeadAsync("reminder-tx", default))!;

        // The head update would succeed, but the command row already exists: the whole batch must roll back.
        var append = new Append(
            "reminder-tx", "reminder", 1, head.ETag, "Reminder", "{}",
            [new StoredEvent("reminder-tx", 2, "NoteAdded", "{\"text\":\"x\"}", engine.Time.GetUtcNow(), "u", "U", "first")],
            [new OutboxEntry("reminder-tx.0000000002.0", OutboxKinds.Notification, "{}", engine.Time.GetUtcNow())],
            engine.Time.GetUtcNow(), engine.Time.GetUtcNow());
        await Should.ThrowAsync<DuplicateCommandException>(() => engine.Store.AppendAsync(append, default));

        // A stale ETag fails at the head: nothing of that batch either.
        await engine.SendAsync("tx", new ReminderWorkflow.Command.AddNote("moves the head"));
        await Should.ThrowAsync<StreamConflictException>(() => engine.Store.AppendAsync(append with
        {
            Events = [append.Events[0] with { CommandId = "other" }],
        }, default));

        var rows = await Rows(engine, "reminder-tx");
        rows.Count(r => r.StartsWith('e')).ShouldBe(2);
        rows.Count(r => r.StartsWith('o')).ShouldBe(1); // only the timer of the first command
        (await engine.Store.ReadHeadAsync("reminder-tx", default))!.Version.ShouldBe(2);
        (await engine.Store.ReadEventsAsync("reminder-tx", default))[^1].Type.ShouldBe("NoteAdded");
    }

    [Fact]
    public async Task UnknownEventTypeInStorage_FailsNamingIt()
    {
        var engine = await Engine.StartAsync();
        var table = engine.Storage.Table(StorageNames.StreamsTable);
        await table.AddEntityAsync(new TableEntity("reminder-odd", "head")
        {
            ["Workflow"] = "reminder", ["Version"] = 1L, ["StateType"] = "ReminderV99", ["State"] = "{}", ["Pending"] = false,
            ["UpdatedAt"] = engine.Time.GetUtcNow(),
        });
        await table.AddEntityAsync(new TableEntity("reminder-odd", "e0000000001")
        {
            ["Type"] = "ReminderSnoozed", ["Data"] = "{}", ["At"] = engine.Time.GetUtcNow(), ["ById"] = "u", ["ByName"] = "U", ["CommandId"] = "c",
        });

        var error = await Should.ThrowAsync<UnknownTypeException>(() => engine.Handler.LoadAsync(ReminderWorkflow.Definition, "reminder-odd", default));

        error.Message.ShouldContain("'ReminderSnoozed'");
    }

    [Fact]
    public async Task KnownEventTypes_RoundTripThroughStorage()
    {
        var engine = await Engine.StartAsync();
        var due = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        await engine.SendAsync("rt", new ReminderWorkflow.Command.SetFor(due));
        await engine.SendAsync("rt", new ReminderWorkflow.Command.AddNote("bring the rota"));
        await engine.SendAsync("rt", new ReminderWorkflow.Command.Dismiss());

        var events = (await engine.Store.ReadEventsAsync("reminder-rt", default))
            .Select(e => ReminderWorkflow.Definition.Events.Deserialize(e.Type, e.Data)).ToList();

        events.ShouldBe([new ReminderWorkflow.Happened.WasSet(due), new ReminderWorkflow.Happened.NoteAdded("bring the rota"), new ReminderWorkflow.Happened.Dismissed()]);
        ReminderWorkflow.Definition.Fold(events).ShouldBe(new ReminderWorkflow.State("dismissed", due, 1));
    }

    [Fact]
    public async Task CreateOnly_MakesANewStream_AndIsAVersionMismatchOnAnExistingOne()
    {
        var engine = await Engine.StartAsync();
        var due = engine.Time.GetUtcNow().AddHours(1);

        var created = await engine.Handler.HandleAsync(ReminderWorkflow.Definition, "c1", new ReminderWorkflow.Command.SetFor(due), engine.Context("create"), expectedVersion: 0);
        var again = await Should.ThrowAsync<VersionMismatchException>(() => engine.Handler.HandleAsync(
            ReminderWorkflow.Definition, "c1", new ReminderWorkflow.Command.AddNote("x"), engine.Context(), expectedVersion: 0));
        var retried = await engine.Handler.HandleAsync(
            ReminderWorkflow.Definition, "c1", new ReminderWorkflow.Command.SetFor(due), engine.Context("create"), expectedVersion: 0);

        created.Version.ShouldBe(1);
        again.Actual.ShouldBe(1);
        retried.AlreadyApplied.ShouldBeTrue(); // a retry of the creation itself succeeds again
        (await engine.Store.ReadEventsAsync("reminder-c1", default)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task TwoInstances_WritingOneStream_NeverDecideOnAStaleHead()
    {
        var engine = await Engine.StartAsync();
        var other = new CommandHandler(engine.Store, engine.Catalog, new DroppedSignal()); // a second app instance
        await engine.SendAsync("shared", new ReminderWorkflow.Command.SetFor(engine.Time.GetUtcNow().AddDays(1)));
        await engine.Dispatcher.DispatchAsync("reminder-shared", default); // nothing pending from here on
        await engine.SendAsync("shared", new ReminderWorkflow.Command.AddNote("a")); // this instance now knows v2

        await other.HandleAsync(ReminderWorkflow.Definition, "shared", new ReminderWorkflow.Command.AddNote("b"), engine.Context());
        await other.HandleAsync(ReminderWorkflow.Definition, "shared", new ReminderWorkflow.Command.Dismiss(), engine.Context());
        var afterDismiss = await engine.SendAsync("shared", new ReminderWorkflow.Command.Dismiss()); // stale cache says "waiting"
        var note = await engine.SendAsync("shared", new ReminderWorkflow.Command.AddNote("c"));

        afterDismiss.NewEvents.ShouldBeEmpty();
        afterDismiss.State.Phase.ShouldBe("dismissed");
        note.Version.ShouldBe(5);
        note.State.Notes.ShouldBe(3);
        (await engine.Store.ReadEventsAsync("reminder-shared", default)).Select(e => e.Version).ShouldBe([1L, 2, 3, 4, 5]);
    }

    [Fact]
    public async Task LargeEventDataAndOutboxPayload_AreSplitAcrossPropertiesAndReadBack()
    {
        var engine = await Engine.StartAsync();
        var data = "{\"text\":\"" + new string('n', 100_000) + "\"}";
        var payload = "{\"p\":\"" + new string('p', 70_000) + "\"}";
        await engine.Store.AppendAsync(new Append(
            "reminder-bigdata", "reminder", 0, null, "Reminder", "{}",
            [new StoredEvent("reminder-bigdata", 1, "NoteAdded", data, engine.Time.GetUtcNow(), "u", "U", "c1")],
            [new OutboxEntry("reminder-bigdata.0000000001.0", OutboxKinds.Notification, payload, engine.Time.GetUtcNow())],
            engine.Time.GetUtcNow(), engine.Time.GetUtcNow()), default);

        (await engine.Store.ReadEventsAsync("reminder-bigdata", default)).ShouldHaveSingleItem().Data.ShouldBe(data);
        (await engine.Store.ReadPendingOutboxAsync("reminder-bigdata", default)).ShouldHaveSingleItem().Payload.ShouldBe(payload);
    }

    [Fact]
    public async Task LargeState_IsSplitAcrossPropertiesAndReadBack()
    {
        var engine = await Engine.StartAsync();
        var head = new Append(
            "reminder-big", "reminder", 0, null, "Reminder", new string('x', 100_000),
            [new StoredEvent("reminder-big", 1, "ReminderDismissed", "{}", engine.Time.GetUtcNow(), "u", "U", "c1")], [], null, engine.Time.GetUtcNow());

        await engine.Store.AppendAsync(head, default);

        (await engine.Store.ReadHeadAsync("reminder-big", default))!.State.Length.ShouldBe(100_000);
    }

    private static async Task<List<string>> Rows(Engine engine, string streamId)
    {
        var rows = new List<string>();
        await foreach (var e in engine.Storage.Table(StorageNames.StreamsTable).QueryAsync<TableEntity>($"PartitionKey eq '{streamId}'"))
        {
            rows.Add(e.RowKey);
        }

        return rows;
    }
}
