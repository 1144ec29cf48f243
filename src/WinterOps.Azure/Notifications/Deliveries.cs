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

    /// <summary>The wait before the second attempt, doubling for each one after (at most 10 minutes), unless the receiver sent Retry-After.</summary>
    public TimeSpan FirstRetry { get; set; } = TimeSpan.FromSeconds(2);

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
    private static readonly HashSet<string> InboxOnly = new(StringComparer.Ordinal) { "QueueMessagesFailed", "NotificationDeadLettered" };

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

/// <summary>
/// Delivers notifications to the external channels, one queue message per notification and channel,
/// so a slow or failing receiver never holds up a workflow or another channel. A transient failure
/// (429, 5xx, network) is retried with exponential backoff, or after the receiver's Retry-After;
/// anything else, or the last attempt, writes a dead-letter row. Every attempt is logged with the outbox id.
/// </summary>
public sealed partial class Deliveries(
    StorageAccount storage, DeadLetters deadLetters, IEnumerable<IExternalChannel> channels, NotificationRouting routing, IPeopleDirectory people, NotificationOptions options,
    TimeProvider time, ILogger<Deliveries> logger)
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    private readonly QueueClient _queue = storage.Queue(StorageNames.DeliveriesQueue);
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
        catch (Exception e) when (DeliveryFailedException.From(e) is { } failure && !cancellationToken.IsCancellationRequested)
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

    /// <summary>2, 4, 8 ... seconds, capped, with up to 20% jitter so retries from many instances spread out.</summary>
    public static TimeSpan Backoff(int attempt) =>
        Min(TimeSpan.FromSeconds(Math.Pow(2, Math.Min(attempt, 20)) * (1 + (Random.Shared.NextDouble() / 5))), MaxBackoff);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task SendAsync(DeliveryRequest request, TimeSpan delay, CancellationToken cancellationToken) =>
        await _queue.SendMessageAsync(JsonSerializer.Serialize(request, WorkflowJson.Options), visibilityTimeout: delay, cancellationToken: cancellationToken);

    private async Task DeadLetterAsync(DeliveryRequest request, int? status, string reason, CancellationToken cancellationToken) =>
        await deadLetters.AddAsync(request, status, reason, time.GetUtcNow(), cancellationToken);

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId} delivered to {Channel} (attempt {Attempt})")]
    private partial void LogDelivered(string outboxId, string channel, int attempt);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId} to {Channel} failed (attempt {Attempt}, status {Status}); retrying in {Wait}: {Reason}")]
    private partial void LogRetrying(string outboxId, string channel, int attempt, int? status, TimeSpan wait, string reason);

    [LoggerMessage(LogLevel.Error, "Outbox {OutboxId} to {Channel} dead-lettered after attempt {Attempt} (status {Status}): {Reason}")]
    private partial void LogGaveUp(string outboxId, string channel, int attempt, int? status, string reason);
}
