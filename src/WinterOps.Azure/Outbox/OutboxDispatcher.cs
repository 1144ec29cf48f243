using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Outbox;

/// <summary>A way of telling people or systems. Delivery is at least once: receivers de-duplicate by outbox id.</summary>
public interface INotificationChannel
{
    string Name { get; }

    Task DeliverAsync(string outboxId, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken);
}

/// <summary>
/// Sends a stream's pending outbox rows: notifications to the in-process channels (inbox, offer board)
/// and onto the delivery queue of each external channel they are routed to; commands and timers to
/// their queues. Each row is marked sent once handed on, then the head's pending marker is cleared.
/// </summary>
public sealed partial class OutboxDispatcher(
    IEventStore store, WorkflowQueues queues, IEnumerable<INotificationChannel> channels, Deliveries? deliveries, ILogger<OutboxDispatcher> logger)
{
    /// <summary>Delivers everything pending on a stream; returns how many outbox rows were sent.</summary>
    public async Task<int> DispatchAsync(string streamId, CancellationToken cancellationToken)
    {
        var head = await store.ReadHeadAsync(streamId, cancellationToken);
        if (head is null)
        {
            return 0;
        }

        var pending = await store.ReadPendingOutboxAsync(streamId, cancellationToken);
        foreach (var entry in pending)
        {
            await DeliverAsync(streamId, entry, cancellationToken);
            await store.MarkSentAsync(streamId, entry, cancellationToken);
            LogSent(entry.Id, entry.Kind);
        }

        if (head.PendingSince is not null)
        {
            await store.TryClearPendingAsync(streamId, head.ETag, cancellationToken);
        }

        return pending.Count;
    }

    /// <summary>
    /// Delivers one notification to the in-process channels (inbox, offer board) and queues it for each external
    /// channel it is routed to. At least once: <paramref name="id"/> is deterministic, and receivers de-duplicate by it.
    /// </summary>
    public async Task NotifyAsync(string id, string source, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        foreach (var channel in channels)
        {
            await channel.DeliverAsync(id, notification, createdAt, cancellationToken);
        }

        if (deliveries is not null)
        {
            await deliveries.EnqueueAsync(id, source, notification, createdAt, cancellationToken);
        }
    }

    private async Task DeliverAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken)
    {
        switch (entry.Kind)
        {
            case OutboxKinds.Notification:
                await NotifyAsync(entry.Id, streamId, JsonSerializer.Deserialize<Notification>(entry.Payload, WorkflowJson.Options)!, entry.CreatedAt, cancellationToken);
                break;
            case OutboxKinds.Command:
                await queues.SendAsync(JsonSerializer.Deserialize<QueuedCommand>(entry.Payload, WorkflowJson.Options)!, cancellationToken);
                break;
            default:
                throw new UnknownTypeException($"Outbox row {entry.Id} has unknown kind '{entry.Kind}'.");
        }
    }

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId} ({Kind}) delivered")]
    private partial void LogSent(string outboxId, string kind);
}

/// <summary>Re-dispatches streams whose outbox waited too long: a crash between commit and signal loses nothing.</summary>
public sealed partial class OutboxSweeper(IEventStore store, OutboxDispatcher dispatcher, TimeProvider time, ILogger<OutboxSweeper> logger)
{
    /// <summary>How old a pending marker must be before the sweeper takes over from the dispatch queue.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var swept = 0;
        await foreach (var streamId in store.FindPendingStreamsAsync(time.GetUtcNow() - Grace, cancellationToken))
        {
            LogSweeping(streamId);
            await dispatcher.DispatchAsync(streamId, cancellationToken);
            swept++;
        }

        return swept;
    }

    [LoggerMessage(LogLevel.Warning, "Stream {StreamId} had an undelivered outbox; sweeping it")]
    private partial void LogSweeping(string streamId);
}

/// <summary>The workflow queues: dispatch signals, commands for other streams, and durable timers.</summary>
public sealed partial class WorkflowQueues(StorageAccount storage, TimeProvider time, ILogger<WorkflowQueues> logger) : IOutboxSignal
{
    /// <summary>Storage queues hide a message for at most 7 days; longer timers are chained.</summary>
    public static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    private readonly QueueClient _dispatch = storage.Queue(StorageNames.DispatchQueue);
    private readonly QueueClient _commands = storage.Queue(StorageNames.CommandsQueue);
    private readonly QueueClient _timers = storage.Queue(StorageNames.TimersQueue);

    public async Task OutboxWrittenAsync(string streamId, CancellationToken cancellationToken)
    {
        try
        {
            await _dispatch.SendMessageAsync(JsonSerializer.Serialize(new DispatchRequest(streamId), WorkflowJson.Options), cancellationToken);
        }
#pragma warning disable CA1031 // The commit stands: the sweeper delivers what this signal could not announce.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogSignalFailed(e, streamId);
        }
    }

    /// <summary>Queues a command now, or as a timer hidden until it is due (or for 7 days, then chained).</summary>
    public async Task SendAsync(QueuedCommand command, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(command, WorkflowJson.Options);
        var delay = command.DueAt - time.GetUtcNow();
        if (delay is not { } wait || wait <= TimeSpan.Zero)
        {
            await _commands.SendMessageAsync(body, cancellationToken);
            return;
        }

        await _timers.SendMessageAsync(body, visibilityTimeout: wait < MaxVisibilityDelay ? wait : MaxVisibilityDelay, cancellationToken: cancellationToken);
    }

    /// <summary>Puts a command back on its own queue, hidden for <paramref name="delay"/>.</summary>
    public async Task RetryLaterAsync(QueuedCommand command, TimeSpan delay, CancellationToken cancellationToken) =>
        await (command.DueAt is null ? _commands : _timers).SendMessageAsync(
            JsonSerializer.Serialize(command, WorkflowJson.Options), visibilityTimeout: delay, cancellationToken: cancellationToken);

    [LoggerMessage(LogLevel.Warning, "Could not queue dispatch of stream {StreamId}; the sweeper will deliver it")]
    private partial void LogSignalFailed(Exception exception, string streamId);
}

/// <summary>The body of an <c>outbox-dispatch</c> queue message.</summary>
public sealed record DispatchRequest(string StreamId);
