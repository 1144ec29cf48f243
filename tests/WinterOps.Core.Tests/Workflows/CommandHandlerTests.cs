using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public sealed class CommandHandlerTests
{
    private const string Key = "T1";
    private const string Stream = "ticket-T1";
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly WorkflowDefinition<TicketState, TicketCommand, TicketEvent> Ticket = TicketWorkflow.Definition;

    private readonly InterceptingEventStore _store = new(new InMemoryEventStore());
    private readonly RecordingOutboxSignal _signal = new();
    private readonly CommandHandler _handler;

    public CommandHandlerTests() => _handler = new CommandHandler(_store, new WorkflowCatalog([Ticket]), _signal);

    private static CommandContext By(string commandId, DateTimeOffset? at = null) => new(commandId, Actor.System("tests"), at ?? T0);

    private Task<CommandResult<TicketState>> Send(TicketCommand command, string commandId, long? expectedVersion = null) =>
        _handler.HandleAsync(Ticket, Key, command, By(commandId), expectedVersion);

    private Task<IReadOnlyList<StoredEvent>> Events() => _store.ReadEventsAsync(Stream, CancellationToken.None);

    [Fact]
    public async Task Handle_OnNewStream_AppendsVersionOneWithStoredNamesAndCaller()
    {
        var result = await Send(new TicketCommand.Open(Key, T0), "open-1");

        result.Version.ShouldBe(1);
        result.AlreadyApplied.ShouldBeFalse();
        result.NewEvents.ShouldBe([new TicketEvent.Opened(Key, T0 + TicketWorkflow.Deadline)]);
        result.State.ShouldBe(new TicketState.Open(Key, 0, T0 + TicketWorkflow.Deadline));
        result.ETag.ShouldBe("\"1\"");

        var stored = (await Events()).ShouldHaveSingleItem();
        stored.ShouldBe(new StoredEvent(
            Stream, 1, "TicketOpened", Ticket.Events.Serialize(new TicketEvent.Opened(Key, T0 + TicketWorkflow.Deadline)),
            T0, "system:tests", "tests", "open-1", "System", null));
        var head = (await _store.ReadHeadAsync(Stream, CancellationToken.None)).ShouldNotBeNull();
        head.StateType.ShouldBe("OpenTicket");
        head.Version.ShouldBe(1);
    }

    [Fact]
    public async Task Handle_SameCommandIdTwice_AppendsOnceAndReportsAlreadyApplied()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        var first = await Send(new TicketCommand.Add(5), "add-1");
        var second = await Send(new TicketCommand.Add(5), "add-1");

        first.AlreadyApplied.ShouldBeFalse();
        first.Version.ShouldBe(2);
        second.AlreadyApplied.ShouldBeTrue();
        second.NewEvents.ShouldBeEmpty();
        second.Version.ShouldBe(2);
        second.State.ShouldBe(new TicketState.Open(Key, 5, T0 + TicketWorkflow.Deadline));
        (await Events()).Select(e => e.Type).ShouldBe(["TicketOpened", "TicketAdded"]);
    }

    [Fact]
    public async Task Handle_SameAmountWithNewCommandId_IsAnotherAdd()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        await Send(new TicketCommand.Add(5), "add-1");
        var second = await Send(new TicketCommand.Add(5), "add-2");

        second.AlreadyApplied.ShouldBeFalse();
        second.Version.ShouldBe(3);
        second.State.ShouldBeOfType<TicketState.Open>().Total.ShouldBe(10);
    }

    [Fact]
    public async Task Handle_RepeatAlreadyReflectedInState_AppendsNothingAndKeepsVersion()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        await Send(new TicketCommand.Close(), "close-1");
        var appendsBefore = _store.Appends.Count;

        var repeat = await Send(new TicketCommand.Close(), "close-2");

        repeat.NewEvents.ShouldBeEmpty();
        repeat.Version.ShouldBe(2);
        repeat.AlreadyApplied.ShouldBeFalse();
        repeat.State.ShouldBe(new TicketState.Closed(Key, 0));
        _store.Appends.Count.ShouldBe(appendsBefore);
        (await Events()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Handle_WhenExpectedVersionDiffers_ThrowsVersionMismatchAndAppendsNothing()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        var mismatch = await Should.ThrowAsync<VersionMismatchException>(() => Send(new TicketCommand.Add(1), "add-1", expectedVersion: 0));

        mismatch.Expected.ShouldBe(0);
        mismatch.Actual.ShouldBe(1);
        mismatch.Message.ShouldContain(Stream);
        (await Events()).Count.ShouldBe(1);
        _store.Appends.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Handle_WhenExpectedVersionMatches_Appends()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        var result = await Send(new TicketCommand.Add(1), "add-1", expectedVersion: 1);

        result.Version.ShouldBe(2);
    }

    [Fact]
    public async Task Handle_ExpectedVersionWhenAnotherWriterWinsTheRace_IsAMismatchNotARetryOverTheirWrite()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var rival = new CommandHandler(_store.Inner, new WorkflowCatalog([Ticket]), _signal);
        _store.BeforeAppend = (_, call) =>
            call == 2 ? rival.HandleAsync(Ticket, Key, new TicketCommand.Add(10), By("rival")) : Task.CompletedTask;

        await Should.ThrowAsync<VersionMismatchException>(() => Send(new TicketCommand.Add(1), "mine", expectedVersion: 1));

        (await Events()).Select(e => e.CommandId).ShouldBe(["open-1", "rival"]);
    }

    [Fact]
    public async Task Append_WhenHeadChanged_IsRetried()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        var rival = new CommandHandler(_store.Inner, new WorkflowCatalog([Ticket]), _signal);
        _store.BeforeAppend = (_, call) =>
            call == 2 ? rival.HandleAsync(Ticket, Key, new TicketCommand.Add(10), By("rival")) : Task.CompletedTask;

        var result = await Send(new TicketCommand.Add(1), "mine");

        result.Version.ShouldBe(3);
        result.State.ShouldBeOfType<TicketState.Open>().Total.ShouldBe(11);
        _store.Appends.Skip(1).Select(a => a.ExpectedVersion).ShouldBe([1L, 2L]);
        (await Events()).Select(e => (e.Version, e.CommandId)).ShouldBe([(1L, "open-1"), (2L, "rival"), (3L, "mine")]);
    }

    [Fact]
    public async Task Append_WhenConflictsNeverStop_GivesUpAfterMaxAttemptsWithConcurrencyException()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        _store.BeforeAppend = (append, _) => throw new StreamConflictException(append.StreamId);

        var error = await Should.ThrowAsync<ConcurrencyException>(() => Send(new TicketCommand.Add(1), "add-1"));

        error.Message.ShouldContain(Stream);
        error.Message.ShouldContain($"{CommandHandler.MaxAttempts} attempts");
        _store.Appends.Count.ShouldBe(1 + CommandHandler.MaxAttempts);
        (await Events()).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Handle_WhenDeciderRejects_CarriesTheStoredStateNameAndAppendsNothing()
    {
        var rejected = await Should.ThrowAsync<CommandRejectedException>(() => Send(new TicketCommand.Add(1), "add-1"));

        rejected.State.ShouldBe("NoTicket");
        rejected.Message.ShouldContain("Add");
        (await _store.ReadHeadAsync(Stream, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task Handle_WhenDeciderRejectsAClosedTicket_NamesTheClosedState()
    {
        await Send(new TicketCommand.Open(Key, T0), "open-1");
        await Send(new TicketCommand.Close(), "close-1");

        var rejected = await Should.ThrowAsync<CommandRejectedException>(() => Send(new TicketCommand.Add(1), "add-1"));

        rejected.State.ShouldBe("ClosedTicket");
        (await Events()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Handle_32ConcurrentCommandsOnOneStream_AppendsContiguousVersionsWithoutLostUpdates()
    {
        const int writers = 32;
        await Send(new TicketCommand.Open(Key, T0), "open-1");

        // Hold every first attempt until all 32 have read version 1, so the race is real on any machine:
        // one of them wins and the other 31 must reload and retry.
        var allRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.BeforeAppend = (_, call) =>
        {
            if (call == 1 + writers)
            {
                allRead.SetResult();
            }

            return call <= 1 + writers ? allRead.Task : Task.CompletedTask;
        };

        var outcomes = await Task.WhenAll(Enumerable.Range(1, writers).Select(i => Task.Run(async () =>
        {
            try
            {
                return (Id: $"add-{i}", Result: await Send(new TicketCommand.Add(1), $"add-{i}"), Gave: (ConcurrencyException?)null);
            }
            catch (ConcurrencyException gaveUp)
            {
                return (Id: $"add-{i}", Result: (CommandResult<TicketState>?)null, Gave: gaveUp);
            }
        })));

        _store.Appends.Skip(1).Take(writers).ShouldAllBe(a => a.ExpectedVersion == 1);
        _store.Appends.Count.ShouldBeGreaterThanOrEqualTo(1 + writers + (writers - 1));

        var succeeded = outcomes.Where(o => o.Result is not null).ToList();
        var gaveUp = outcomes.Where(o => o.Gave is not null).ToList();
        (succeeded.Count + gaveUp.Count).ShouldBe(writers);
        succeeded.ShouldNotBeEmpty();

        var events = await Events();
        events.Select(e => e.Version).ShouldBe(Enumerable.Range(1, 1 + succeeded.Count).Select(v => (long)v));
        events.Skip(1).Select(e => e.CommandId).Order(StringComparer.Ordinal)
            .ShouldBe(succeeded.Select(o => o.Id).Order(StringComparer.Ordinal));
        succeeded.Select(o => o.Result!.Version).Order()
            .ShouldBe(Enumerable.Range(2, succeeded.Count).Select(v => (long)v));

        var (state, head) = await _handler.LoadAsync(Ticket, Stream, CancellationToken.None);
        state.ShouldBeOfType<TicketState.Open>().Total.ShouldBe(succeeded.Count);
        head.ShouldNotBeNull().Version.ShouldBe(1 + succeeded.Count);
    }

    [Fact]
    public async Task Load_WhenSnapshotTypeIsUnknown_RebuildsStateFromEvents()
    {
        var due = T0 + TicketWorkflow.Deadline;
        TicketEvent[] history = [new TicketEvent.Opened("T9", due), new TicketEvent.Added(4), new TicketEvent.Added(3)];
        var stored = history
            .Select((e, i) => new StoredEvent("ticket-T9", i + 1, Ticket.Events.NameOf(e), Ticket.Events.Serialize(e), T0, "system:seed", "seed", "seed"))
            .ToList();
        await _store.Inner.AppendAsync(
            new Append("ticket-T9", Ticket.Name, 0, null, "TicketStateFromANewerRelease", "{\"shape\":\"unknown\"}", stored, [], null, T0),
            CancellationToken.None);

        var (state, head) = await _handler.LoadAsync(Ticket, "ticket-T9", CancellationToken.None);

        state.ShouldBe(new TicketState.Open("T9", 7, due));
        head.ShouldNotBeNull().Version.ShouldBe(3);
    }

    [Fact]
    public async Task Handle_OnStreamWithUnknownSnapshotType_DecidesOnReplayedStateAndWritesAKnownSnapshot()
    {
        var due = T0 + TicketWorkflow.Deadline;
        var opened = new TicketEvent.Opened("T9", due);
        await _store.Inner.AppendAsync(
            new Append("ticket-T9", Ticket.Name, 0, null, "TicketStateFromANewerRelease", "{}",
                [new StoredEvent("ticket-T9", 1, "TicketOpened", Ticket.Events.Serialize(opened), T0, "system:seed", "seed", "seed")], [], null, T0),
            CancellationToken.None);

        var result = await _handler.HandleAsync(Ticket, "T9", new TicketCommand.Add(2), By("add-1"));

        result.Version.ShouldBe(2);
        result.State.ShouldBe(new TicketState.Open("T9", 2, due));
        (await _store.ReadHeadAsync("ticket-T9", CancellationToken.None)).ShouldNotBeNull().StateType.ShouldBe("OpenTicket");
    }

    [Fact]
    public async Task Load_WhenSnapshotTypeIsKnown_UsesTheSnapshotWithoutReplaying()
    {
        var due = T0 + TicketWorkflow.Deadline;
        var opened = new TicketEvent.Opened("T9", due);
        await _store.Inner.AppendAsync(
            new Append("ticket-T9", Ticket.Name, 0, null, "OpenTicket", Ticket.States.Serialize(new TicketState.Open("T9", 99, due)),
                [new StoredEvent("ticket-T9", 1, "TicketOpened", Ticket.Events.Serialize(opened), T0, "system:seed", "seed", "seed")], [], null, T0),
            CancellationToken.None);

        var (state, _) = await _handler.LoadAsync(Ticket, "ticket-T9", CancellationToken.None);

        state.ShouldBe(new TicketState.Open("T9", 99, due));
    }

    [Fact]
    public async Task Load_OfMissingStream_IsTheInitialStateWithoutHead()
    {
        var (state, head) = await _handler.LoadAsync(Ticket, "ticket-nobody", CancellationToken.None);

        state.ShouldBe(new TicketState.None());
        head.ShouldBeNull();
    }

    [Fact]
    public async Task Retry_WithTheSameIfMatch_AfterItSucceeded_IsAlreadyApplied()
    {
        await Send(new TicketCommand.Open(Key, T0), "open");
        await Send(new TicketCommand.Add(1), "add-1", expectedVersion: 1);

        var retry = await Send(new TicketCommand.Add(1), "add-1", expectedVersion: 1);

        retry.AlreadyApplied.ShouldBeTrue();
        (await Events()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Retry_AfterTheStateMovedOn_IsAlreadyApplied_NotRejected()
    {
        await Send(new TicketCommand.Open(Key, T0), "open");
        await Send(new TicketCommand.Add(1), "add-1");
        await Send(new TicketCommand.Close(), "close");

        var retry = await Send(new TicketCommand.Add(1), "add-1");

        retry.AlreadyApplied.ShouldBeTrue();
        await Should.ThrowAsync<CommandRejectedException>(() => Send(new TicketCommand.Add(1), "add-2"));
    }
}
