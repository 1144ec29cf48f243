using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public sealed class InMemoryEventStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly InMemoryEventStore _store = new();

    private static Append NewAppend(
        string streamId, long expectedVersion, string? expectedETag, string commandId, int events = 1, int outbox = 0, DateTimeOffset? pendingSince = null, string workflow = "w") =>
        new(
            streamId, workflow, expectedVersion, expectedETag, "S", "{}",
            [.. Enumerable.Range(1, events).Select(i => new StoredEvent(streamId, expectedVersion + i, "E", "{}", T0, "u", "U", commandId))],
            [.. Enumerable.Range(0, outbox).Select(i => new OutboxEntry($"{streamId}.{expectedVersion + 1:D10}.{i}", OutboxKinds.Notification, "{}", T0))],
            pendingSince,
            T0);

    private async Task<StoredHead> Head(string streamId) => (await _store.ReadHeadAsync(streamId, CancellationToken.None)).ShouldNotBeNull();

    [Fact]
    public async Task Append_WritesHeadEventsAndOutboxTogether()
    {
        var etag = await _store.AppendAsync(NewAppend("w-a", 0, null, "c1", events: 2, outbox: 1, pendingSince: T0), CancellationToken.None);

        var head = await Head("w-a");
        head.ETag.ShouldBe(etag);
        head.Version.ShouldBe(2);
        head.PendingSince.ShouldBe(T0);
        (await _store.ReadEventsAsync("w-a", CancellationToken.None)).Select(e => e.Version).ShouldBe([1L, 2L]);
        (await _store.ReadPendingOutboxAsync("w-a", CancellationToken.None)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Append_WithStaleETag_ConflictsAndWritesNothing()
    {
        var first = await _store.AppendAsync(NewAppend("w-a", 0, null, "c1"), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-a", 1, first, "c2"), CancellationToken.None);

        await Should.ThrowAsync<StreamConflictException>(() => _store.AppendAsync(NewAppend("w-a", 1, first, "c3", outbox: 1), CancellationToken.None));

        (await Head("w-a")).Version.ShouldBe(2);
        (await _store.ReadEventsAsync("w-a", CancellationToken.None)).Count.ShouldBe(2);
        (await _store.ReadPendingOutboxAsync("w-a", CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Append_CreatingAStreamThatExists_Conflicts()
    {
        await _store.AppendAsync(NewAppend("w-a", 0, null, "c1"), CancellationToken.None);

        await Should.ThrowAsync<StreamConflictException>(() => _store.AppendAsync(NewAppend("w-a", 0, null, "c2"), CancellationToken.None));
    }

    [Fact]
    public async Task Append_OfAnAppliedCommandId_IsADuplicateAndWritesNothing()
    {
        var etag = await _store.AppendAsync(NewAppend("w-a", 0, null, "c1"), CancellationToken.None);

        await Should.ThrowAsync<DuplicateCommandException>(() => _store.AppendAsync(NewAppend("w-a", 1, etag, "c1"), CancellationToken.None));

        (await Head("w-a")).ETag.ShouldBe(etag);
        (await _store.ReadEventsAsync("w-a", CancellationToken.None)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Append_SameCommandIdOnAnotherStream_IsNotADuplicate()
    {
        await _store.AppendAsync(NewAppend("w-a", 0, null, "c1"), CancellationToken.None);

        await _store.AppendAsync(NewAppend("w-b", 0, null, "c1"), CancellationToken.None);

        (await Head("w-b")).Version.ShouldBe(1);
    }

    [Fact]
    public async Task TryClearPending_WhenHeadETagChanged_FailsAndKeepsPending()
    {
        var stale = await _store.AppendAsync(NewAppend("w-a", 0, null, "c1", outbox: 1, pendingSince: T0), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-a", 1, stale, "c2", outbox: 1, pendingSince: T0), CancellationToken.None);

        var cleared = await _store.TryClearPendingAsync("w-a", stale, CancellationToken.None);

        cleared.ShouldBeFalse();
        (await Head("w-a")).PendingSince.ShouldBe(T0);
    }

    [Fact]
    public async Task TryClearPending_WithCurrentETag_ClearsAndChangesTheETag()
    {
        var etag = await _store.AppendAsync(NewAppend("w-a", 0, null, "c1", outbox: 1, pendingSince: T0), CancellationToken.None);

        var cleared = await _store.TryClearPendingAsync("w-a", etag, CancellationToken.None);

        cleared.ShouldBeTrue();
        var head = await Head("w-a");
        head.PendingSince.ShouldBeNull();
        head.ETag.ShouldNotBe(etag);
        head.Version.ShouldBe(1);
        await Should.ThrowAsync<StreamConflictException>(() => _store.AppendAsync(NewAppend("w-a", 1, etag, "c2"), CancellationToken.None));
    }

    [Fact]
    public async Task FindPendingStreams_ReturnsOnlyStreamsPendingBeforeTheCutoff()
    {
        var cutoff = T0.AddMinutes(10);
        await _store.AppendAsync(NewAppend("w-old", 0, null, "c1", outbox: 1, pendingSince: T0), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-at-cutoff", 0, null, "c1", outbox: 1, pendingSince: cutoff), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-recent", 0, null, "c1", outbox: 1, pendingSince: cutoff.AddMinutes(1)), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-delivered", 0, null, "c1"), CancellationToken.None);
        var cleared = await _store.AppendAsync(NewAppend("w-cleared", 0, null, "c1", outbox: 1, pendingSince: T0), CancellationToken.None);
        await _store.TryClearPendingAsync("w-cleared", cleared, CancellationToken.None);

        var pending = await _store.FindPendingStreamsAsync(cutoff, CancellationToken.None).ToListAsync();

        pending.ShouldBe(["w-old"]);
    }

    [Fact]
    public async Task MarkSent_RemovesTheEntryFromPendingOnly()
    {
        await _store.AppendAsync(NewAppend("w-a", 0, null, "c1", outbox: 2, pendingSince: T0), CancellationToken.None);
        var entries = await _store.ReadPendingOutboxAsync("w-a", CancellationToken.None);

        await _store.MarkSentAsync("w-a", entries[0], CancellationToken.None);

        (await _store.ReadPendingOutboxAsync("w-a", CancellationToken.None)).Select(o => o.Id).ShouldBe([entries[1].Id]);
    }

    [Fact]
    public async Task ReadHeads_ReturnsOnlyTheWorkflowsStreamsInOrder()
    {
        await _store.AppendAsync(NewAppend("w-b", 0, null, "c1"), CancellationToken.None);
        await _store.AppendAsync(NewAppend("x-a", 0, null, "c1", workflow: "x"), CancellationToken.None);
        await _store.AppendAsync(NewAppend("w-a", 0, null, "c1"), CancellationToken.None);

        var heads = await _store.ReadHeadsAsync("w", "", CancellationToken.None).ToListAsync();

        heads.Select(h => h.StreamId).ShouldBe(["w-a", "w-b"]);
    }

    [Fact]
    public async Task ReadEvents_OfMissingStream_IsEmpty()
    {
        (await _store.ReadEventsAsync("w-nobody", CancellationToken.None)).ShouldBeEmpty();
        (await _store.ReadHeadAsync("w-nobody", CancellationToken.None)).ShouldBeNull();
    }
}
