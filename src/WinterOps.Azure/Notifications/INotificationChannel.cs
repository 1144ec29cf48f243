using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>A way of telling people in the app itself (the inbox, the offer board): written before any external delivery starts.</summary>
public interface INotificationChannel
{
    string Name { get; }

    /// <summary>Writes the notification under <paramref name="id"/>; writing the same id again changes nothing.</summary>
    Task DeliverAsync(string id, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken);
}
