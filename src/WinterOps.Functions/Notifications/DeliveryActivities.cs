using Microsoft.Azure.Functions.Worker;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Notifications;

/// <summary>The delivery's I/O: one attempt on one channel, and a dead letter.</summary>
public sealed partial class DeliveryActivities(
    IEnumerable<IExternalChannel> channels, IPeopleDirectory people, DeadLetters deadLetters, InboxStore inbox, ILogger<DeliveryActivities> logger)
{
    private readonly Dictionary<string, IExternalChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>Sends the notification on its channel once: delivered, or why not. A channel switched off since is a refusal.</summary>
    [Function(nameof(Deliver))]
    public async Task<DeliveryAttempt> Deliver([ActivityTrigger] DeliveryRequest request, CancellationToken cancellationToken)
    {
        if (!_channels.TryGetValue(request.Channel, out var channel) || !channel.Enabled)
        {
            return new DeliveryAttempt(false, Reason: $"Channel '{request.Channel}' is not configured.");
        }

        try
        {
            var to = await people.PeopleForAsync(request.Notification, cancellationToken);
            await channel.SendAsync(new OutgoingNotification(request.OutboxId, request.WorkflowId, request.Notification, request.CreatedAt, to), cancellationToken);
            LogDelivered(request.OutboxId, request.Channel, request.Attempt);
            return new DeliveryAttempt(true);
        }
        catch (Exception e) when (DeliveryFailedException.From(e) is { } failure && !cancellationToken.IsCancellationRequested)
        {
            LogFailed(request.OutboxId, request.Channel, request.Attempt, failure.Status, failure.Transient, failure.Message);
            return new DeliveryAttempt(false, failure.Transient, failure.Status, failure.Message, failure.RetryAfter);
        }
    }

    /// <summary>Keeps the delivery that gave up for coordinators to re-drive, and tells the coordination centre in its inbox.</summary>
    [Function(nameof(DeadLetter))]
    public async Task DeadLetter([ActivityTrigger] DeadLetterStep step, CancellationToken cancellationToken)
    {
        var letter = await deadLetters.AddAsync(step.Request, step.Status, step.Reason, step.At, cancellationToken);
        LogGaveUp(letter.OutboxId, letter.Channel, letter.Attempts, letter.Status, letter.Reason);
        await inbox.DeliverAsync(
            $"deadletter-{letter.Id}",
            new Notification(
                "NotificationDeadLettered",
                Recipient.Role("Coordinator"),
                $"{letter.Type} not delivered to {letter.Channel}",
                letter.WorkflowId,
                new Dictionary<string, string>
                {
                    ["deadLetterId"] = letter.Id, ["notificationId"] = letter.OutboxId, ["channel"] = letter.Channel, ["type"] = letter.Type, ["reason"] = letter.Reason,
                },
                "/api/operations/dead-letters",
                Severity: Severity.Warning),
            step.At,
            cancellationToken);
    }

    [LoggerMessage(LogLevel.Information, "Notification {OutboxId} delivered to {Channel} (attempt {Attempt})")]
    private partial void LogDelivered(string outboxId, string channel, int attempt);

    [LoggerMessage(LogLevel.Warning, "Notification {OutboxId} to {Channel} failed (attempt {Attempt}, status {Status}, transient {Transient}): {Reason}")]
    private partial void LogFailed(string outboxId, string channel, int attempt, int? status, bool transient, string reason);

    [LoggerMessage(LogLevel.Error, "Notification {OutboxId} to {Channel} dead-lettered after attempt {Attempt} (status {Status}): {Reason}")]
    private partial void LogGaveUp(string outboxId, string channel, int attempt, int? status, string reason);
}
