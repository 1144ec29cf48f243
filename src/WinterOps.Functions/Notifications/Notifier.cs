using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Notifications;

/// <summary>
/// How every workflow tells people. The inbox (and a home's offer list) are written at once, always, so a home with
/// no integration still sees its offers; then one delivery orchestration (<see cref="DeliveryOrchestration"/>, instance
/// <c>delivery-{id}</c>) takes the notification to each configured channel its type is routed to, without holding up
/// the caller. At least once: <c>id</c> is deterministic, every receiver de-duplicates by it, and a second call with
/// the same id starts nothing new.
/// </summary>
public sealed class Notifier(IEnumerable<INotificationChannel> local, IEnumerable<IExternalChannel> external, NotificationRouting routing, NotificationOptions options)
{
    private readonly HashSet<string> _enabled = external.Where(c => c.Enabled).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);

    public async Task NotifyAsync(
        DurableTaskClient durable, string id, string source, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        foreach (var channel in local)
        {
            await channel.DeliverAsync(id, notification, createdAt, cancellationToken);
        }

        var channels = routing.ChannelsFor(notification.Type).Where(_enabled.Contains).Distinct().ToList();
        if (channels.Count > 0)
        {
            await StartAsync(
                durable, DeliveryOrchestration.InstanceId(id),
                new DeliveryInput(id, source, notification, createdAt, channels, options.MaxAttempts, options.FirstRetry), cancellationToken);
        }
    }

    /// <summary>Starts a delivery unless one with this instance id exists (a re-run of the caller): the first one stands.</summary>
    public static async Task StartAsync(DurableTaskClient durable, string instanceId, DeliveryInput input, CancellationToken cancellationToken)
    {
        if (await durable.GetInstanceAsync(instanceId, cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(DeliveryOrchestration.Name, input, new StartOrchestrationOptions(instanceId), cancellationToken);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // Two runs of the caller raced to start it: the other one did.
            if (await durable.GetInstanceAsync(instanceId, cancellationToken) is null)
            {
                throw;
            }
        }
    }
}
