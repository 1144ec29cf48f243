using Azure.Identity;
using Azure.Messaging;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// Publishes notifications to a Service Bus topic with the Azure.Messaging.ServiceBus SDK, for partner systems. One
/// message per organisation the notification is for (<c>TargetOrg</c> = its id), or one with <c>TargetOrg</c> = ALL
/// when it is for roles only. <c>MessageId</c> is the notification id (one message) or <c>{id}:{org}</c> (several), the
/// same on every retry, so the topic's duplicate detection keeps one copy; several go as <see cref="ServiceBusMessageBatch"/>es,
/// split when one is full (a retry after a later batch failed resends the earlier ones, dropped as duplicates).
/// <c>Subject</c> is the notification type; application properties for subscription rules: EventType, TargetOrg,
/// Severity, Sector (when the data has one) and SchemaVersion. The body is a CloudEvent (<see cref="CloudEvents"/>).
/// The SDK's own retries are few and short (see <see cref="ClientOptions"/>): failures throw
/// <see cref="DeliveryFailedException"/> for the delivery loop, which owns retrying.
/// </summary>
public sealed partial class ServiceBusChannel(ServiceBusSender? sender, ILogger<ServiceBusChannel> logger) : IExternalChannel
{
    public const string AllOrgs = "ALL";
    public const string CloudEventsContentType = "application/cloudevents+json";

    /// <summary>The version of the message contract (docs/messages.md) partners can filter or branch on.</summary>
    public const string SchemaVersion = "1";

    public string Name => "servicebus";

    public bool Enabled => sender is not null;

    /// <summary>
    /// Small on purpose: by default a broker that is down takes ~11 s to fail a send and ServerBusy sleeps 10 s;
    /// the delivery loop retries with its own backoff instead.
    /// </summary>
    public static void ClientOptions(ServiceBusClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Identifier = "winterops";
        options.RetryOptions.Mode = ServiceBusRetryMode.Exponential;
        options.RetryOptions.MaxRetries = 1;
        options.RetryOptions.Delay = TimeSpan.FromMilliseconds(200);
        options.RetryOptions.MaxDelay = TimeSpan.FromSeconds(1);
        options.RetryOptions.TryTimeout = TimeSpan.FromSeconds(5);
    }

    public async Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
    {
        if (sender is null)
        {
            return;
        }

        var messages = Messages(notification);
        var sends = 0;
        try
        {
            if (messages.Count == 1)
            {
                await sender.SendMessageAsync(messages[0], cancellationToken);
                sends++;
            }
            else
            {
                var pending = new Queue<ServiceBusMessage>(messages);
                while (pending.Count > 0)
                {
                    using var batch = await sender.CreateMessageBatchAsync(cancellationToken);
                    while (pending.Count > 0 && batch.TryAddMessage(pending.Peek()))
                    {
                        pending.Dequeue();
                    }

                    if (batch.Count == 0)
                    {
                        throw new DeliveryFailedException($"Message {pending.Peek().MessageId} is larger than the topic takes.", transient: false);
                    }

                    await sender.SendMessagesAsync(batch, cancellationToken);
                    sends++;
                }
            }
        }
        catch (Exception e) when (Failure(e, cancellationToken) is { } failure)
        {
            LogFailed(e, notification.OutboxId, failure.Transient);
            throw failure;
        }

        LogSent(notification.OutboxId, messages.Count, sends);
    }

    /// <summary>The messages one notification becomes, in recipient order.</summary>
    private static List<ServiceBusMessage> Messages(OutgoingNotification outgoing)
    {
        var n = outgoing.Notification;
        var orgs = n.Recipients.Where(r => r.Kind == RecipientKind.Org).Select(r => r.Id).Distinct().ToList();
        if (orgs.Count == 0)
        {
            orgs.Add(AllOrgs);
        }

        return orgs.Select(org =>
        {
            var id = orgs.Count == 1 ? outgoing.OutboxId : $"{outgoing.OutboxId}:{org}";
            var message = new ServiceBusMessage(CloudEvents.Serialize(outgoing, id, org))
            {
                MessageId = id,
                Subject = n.Type,
                CorrelationId = outgoing.WorkflowId,
                ContentType = CloudEventsContentType,
            };
            message.ApplicationProperties["EventType"] = n.Type;
            message.ApplicationProperties["TargetOrg"] = org;
            message.ApplicationProperties["Severity"] = CloudEvents.SeverityName(n.Severity);
            if (n.Data.TryGetValue("sector", out var sector))
            {
                message.ApplicationProperties["Sector"] = sector;
            }

            message.ApplicationProperties["SchemaVersion"] = SchemaVersion;
            return message;
        }).ToList();
    }

    /// <summary>What a failed send means for the delivery loop: transient (worth retrying) or not; null for the caller's own cancellation.</summary>
    private static DeliveryFailedException? Failure(Exception e, CancellationToken cancellationToken) => e switch
    {
        DeliveryFailedException failed => failed,
        ServiceBusException { Reason: ServiceBusFailureReason.MessagingEntityNotFound or ServiceBusFailureReason.QuotaExceeded or ServiceBusFailureReason.MessageSizeExceeded } sb =>
            new DeliveryFailedException($"Service Bus refused the message ({sb.Reason}): {sb.Message}", transient: false, inner: e),
        ServiceBusException sb => new DeliveryFailedException($"Service Bus failed ({sb.Reason}): {sb.Message}", transient: true, inner: e),
        UnauthorizedAccessException => new DeliveryFailedException($"Service Bus refused the credentials: {e.Message}", transient: false, inner: e),
        AuthenticationFailedException => new DeliveryFailedException($"No Entra token for Service Bus: {e.Message}", transient: true, inner: e),
        TimeoutException or IOException or System.Net.Sockets.SocketException => new DeliveryFailedException($"Service Bus could not be reached: {e.Message}", transient: true, inner: e),
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new DeliveryFailedException($"Service Bus did not answer in time: {e.Message}", transient: true, inner: e),
        _ => null,
    };

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId}: {Messages} Service Bus message(s) sent in {Sends} send(s)")]
    private partial void LogSent(string outboxId, int messages, int sends);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: the Service Bus send failed (transient: {Transient})")]
    private partial void LogFailed(Exception exception, string outboxId, bool transient);
}
