using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>Delivery settings (section <c>Notifications</c>).</summary>
public sealed class NotificationOptions
{
    /// <summary>Attempts per channel before a notification is dead-lettered (transient failures only; others at once).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>
    /// Channels per notification type, replacing the defaults: <c>Notifications__Routes__PlacementOffered=servicebus,teams</c>;
    /// <c>none</c> sends a type to no external channel (the inbox always has it).
    /// </summary>
    public Dictionary<string, string> Routes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Which external channels a notification goes to, by its type: the defaults below, or the configured routes.</summary>
public sealed class NotificationRouting(NotificationOptions options)
{
    /// <summary>Operational notices stay in the inbox of the coordination centre.</summary>
    private static readonly HashSet<string> InboxOnly = new(StringComparer.Ordinal) { "QueueMessagesFailed" };

    /// <summary>Card-worthy for a channel feed: what needs someone to act now.</summary>
    private static readonly HashSet<string> Webhook = new(StringComparer.Ordinal) { "EscalationAlert", "PlacementUnplaced" };

    public IReadOnlyList<string> ChannelsFor(string type)
    {
        if (options.Routes.TryGetValue(type, out var configured))
        {
            return configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(c => !c.Equals("none", StringComparison.OrdinalIgnoreCase)).Select(c => c.ToLowerInvariant()).ToList();
        }

        if (InboxOnly.Contains(type))
        {
            return [];
        }

        // Partner systems get every event; Teams reaches the people a notice names (or a home's brokers);
        // the Workflows webhook carries escalations and unplaced placements.
        return Webhook.Contains(type) ? ["servicebus", "teams", "webhook"] : ["servicebus", "teams"];
    }
}

/// <summary>Who to reach personally for a notification: the people it names, and the brokers of care homes it is addressed to.</summary>
public interface IPeopleDirectory
{
    Task<IReadOnlyList<string>> PeopleForAsync(Notification notification, CancellationToken cancellationToken);
}

/// <summary>The body of a <c>notification-deliveries</c> queue message: one notification for one channel, and its attempt.</summary>
public sealed record DeliveryRequest(string OutboxId, string WorkflowId, string Channel, Notification Notification, DateTimeOffset CreatedAt, int Attempt);

/// <summary>A delivery that gave up: kept for coordinators to read and re-drive.</summary>
public sealed record DeadLetter(
    string Id, string OutboxId, string WorkflowId, string Channel, string Type, int Attempts, int? Status, string Reason, DateTimeOffset At, DeliveryRequest Request);

/// <summary>
/// Delivers notifications to the external channels, one queue message per notification and channel,
/// so a slow or failing receiver never holds up a workflow or another channel. A transient failure
/// (429, 5xx, network) is retried with exponential backoff, or after the receiver's Retry-After;
/// anything else, or the last attempt, writes a dead-letter row. Every attempt is logged with the outbox id.
/// </summary>
public sealed partial class Deliveries(
    StorageAccount storage, IEnumerable<IExternalChannel> channels, NotificationRouting routing, IPeopleDirectory people, NotificationOptions options,
    TimeProvider time, ILogger<Deliveries> logger)
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    private readonly QueueClient _queue = storage.Queue(StorageNames.DeliveriesQueue);
    private readonly TableClient _deadLetters = storage.Table(StorageNames.DeadLettersTable);
    private readonly Dictionary<string, IExternalChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>Queues the notification for each enabled channel its type is routed to.</summary>
    public async Task EnqueueAsync(string outboxId, string workflowId, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        foreach (var name in routing.ChannelsFor(notification.Type))
        {
            if (_channels.TryGetValue(name, out var channel) && channel.Enabled)
            {
                await SendAsync(new DeliveryRequest(outboxId, workflowId, name, notification, createdAt, 1), TimeSpan.Zero, cancellationToken);
            }
        }
    }

    /// <summary>One attempt (the queue trigger): delivered, queued again for later, or dead-lettered.</summary>
    public async Task DeliverAsync(DeliveryRequest request, CancellationToken cancellationToken)
    {
        if (!_channels.TryGetValue(request.Channel, out var channel) || !channel.Enabled)
        {
            await DeadLetterAsync(request, null, $"Channel '{request.Channel}' is not configured.", cancellationToken);
            return;
        }

        try
        {
            var to = await people.PeopleForAsync(request.Notification, cancellationToken);
            await channel.SendAsync(new OutgoingNotification(request.OutboxId, request.WorkflowId, request.Notification, request.CreatedAt, to), cancellationToken);
            LogDelivered(request.OutboxId, request.Channel, request.Attempt);
        }
        catch (Exception e) when (Failure(e) is { } failure && !cancellationToken.IsCancellationRequested)
        {
            if (failure.Transient && request.Attempt < options.MaxAttempts)
            {
                var wait = failure.RetryAfter is { } after && after > TimeSpan.Zero ? Min(after, MaxBackoff) : Backoff(request.Attempt);
                LogRetrying(request.OutboxId, request.Channel, request.Attempt, failure.Status, wait, failure.Message);
                await SendAsync(request with { Attempt = request.Attempt + 1 }, wait, cancellationToken);
                return;
            }

            LogGaveUp(request.OutboxId, request.Channel, request.Attempt, failure.Status, failure.Message);
            await DeadLetterAsync(request, failure.Status, failure.Message, cancellationToken);
        }
    }

    /// <summary>Dead letters, newest first.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        await foreach (var e in _deadLetters.QueryAsync<TableEntity>(maxPerPage: limit, cancellationToken: cancellationToken))
        {
            letters.Add(ToDeadLetter(e));
            if (letters.Count == limit)
            {
                break;
            }
        }

        return letters;
    }

    /// <summary>Queues a dead letter's delivery again from attempt 1 and removes it; false when there is no such dead letter.</summary>
    public async Task<bool> RedriveAsync(string id, CancellationToken cancellationToken)
    {
        var found = await _deadLetters.QueryAsync<TableEntity>(e => e.RowKey == id, cancellationToken: cancellationToken).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return false;
        }

        var letter = ToDeadLetter(found);
        await SendAsync(letter.Request with { Attempt = 1 }, TimeSpan.Zero, cancellationToken);
        await _deadLetters.DeleteEntityAsync(found.PartitionKey, found.RowKey, ETag.All, cancellationToken);
        LogRedriven(letter.OutboxId, letter.Channel);
        return true;
    }

    /// <summary>2, 4, 8 ... seconds, capped, with up to 20% jitter so retries from many instances spread out.</summary>
    public static TimeSpan Backoff(int attempt) =>
        Min(TimeSpan.FromSeconds(Math.Pow(2, Math.Min(attempt, 20)) * (1 + (Random.Shared.NextDouble() / 5))), MaxBackoff);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static DeliveryFailedException? Failure(Exception e) => e switch
    {
        DeliveryFailedException failed => failed,
        HttpRequestException or TimeoutException or TaskCanceledException or IOException => new DeliveryFailedException(e.Message, transient: true, inner: e),
        _ => null,
    };

    private async Task SendAsync(DeliveryRequest request, TimeSpan delay, CancellationToken cancellationToken) =>
        await _queue.SendMessageAsync(JsonSerializer.Serialize(request, WorkflowJson.Options), visibilityTimeout: delay, cancellationToken: cancellationToken);

    private async Task DeadLetterAsync(DeliveryRequest request, int? status, string reason, CancellationToken cancellationToken)
    {
        // Newest first: the row key starts with the inverted time; one row per outbox id and channel.
        var now = time.GetUtcNow();
        var id = $"{DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks:D19}-{request.Channel}-{request.OutboxId}";
        await _deadLetters.UpsertEntityAsync(
            new TableEntity("deadletter", id)
            {
                ["OutboxId"] = request.OutboxId,
                ["WorkflowId"] = request.WorkflowId,
                ["Channel"] = request.Channel,
                ["Type"] = request.Notification.Type,
                ["Attempts"] = request.Attempt,
                ["Status"] = status,
                ["Reason"] = reason.Length > 1000 ? reason[..1000] : reason,
                ["At"] = now,
                ["Request"] = JsonSerializer.Serialize(request, WorkflowJson.Options),
            },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    private static DeadLetter ToDeadLetter(TableEntity e) => new(
        e.RowKey, e.GetString("OutboxId"), e.GetString("WorkflowId"), e.GetString("Channel"), e.GetString("Type"), e.GetInt32("Attempts") ?? 0,
        e.GetInt32("Status"), e.GetString("Reason"), e.GetDateTimeOffset("At")!.Value,
        JsonSerializer.Deserialize<DeliveryRequest>(e.GetString("Request"), WorkflowJson.Options)!);

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId} delivered to {Channel} (attempt {Attempt})")]
    private partial void LogDelivered(string outboxId, string channel, int attempt);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId} to {Channel} failed (attempt {Attempt}, status {Status}); retrying in {Wait}: {Reason}")]
    private partial void LogRetrying(string outboxId, string channel, int attempt, int? status, TimeSpan wait, string reason);

    [LoggerMessage(LogLevel.Error, "Outbox {OutboxId} to {Channel} dead-lettered after attempt {Attempt} (status {Status}): {Reason}")]
    private partial void LogGaveUp(string outboxId, string channel, int attempt, int? status, string reason);

    [LoggerMessage(LogLevel.Information, "Dead letter of outbox {OutboxId} to {Channel} re-driven")]
    private partial void LogRedriven(string outboxId, string channel);
}
