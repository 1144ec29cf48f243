using Microsoft.DurableTask.Client;
using WinterOps.Azure.Outbox;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Notifications;

/// <summary>
/// How every workflow tells people: the inbox (and a home's offer list) at once, then the external channels.
/// At least once: <c>id</c> is deterministic, and every receiver de-duplicates by it.
/// </summary>
public sealed class Notifier(OutboxDispatcher outbox)
{
    public Task NotifyAsync(
        DurableTaskClient durable, string id, string source, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken) =>
        outbox.NotifyAsync(id, source, notification, createdAt, cancellationToken);
}
