using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// One notification on its way to an external channel. <paramref name="OutboxId"/> is stable across
/// retries (receivers de-duplicate by it); <paramref name="WorkflowId"/> is the stream that caused it;
/// <paramref name="People"/> are the Entra user ids to reach personally (Teams).
/// </summary>
public sealed record OutgoingNotification(
    string OutboxId, string WorkflowId, Notification Notification, DateTimeOffset CreatedAt, IReadOnlyList<string> People);

/// <summary>
/// A channel outside WinterOps (Service Bus, Teams, a Workflows webhook). Delivery is at least once.
/// A failed send throws <see cref="DeliveryFailedException"/>; the caller retries or dead-letters.
/// </summary>
public interface IExternalChannel
{
    /// <summary>Lower-case name used in routing settings and dead-letter records: servicebus, teams, webhook.</summary>
    string Name { get; }

    /// <summary>False when the channel is not configured: nothing is sent and nothing fails.</summary>
    bool Enabled { get; }

    Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken);
}

/// <summary>
/// A send that did not succeed. <see cref="Transient"/>: worth retrying (429, 5xx, network), after
/// <see cref="RetryAfter"/> when the receiver said so. Otherwise (401, 403, 404, 410, other 4xx) retrying
/// cannot help: dead-letter at once.
/// </summary>
public sealed class DeliveryFailedException : Exception
{
    public DeliveryFailedException(string message, bool transient, int? status = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Transient = transient;
        Status = status;
        RetryAfter = retryAfter;
    }

    public DeliveryFailedException()
    {
    }

    public DeliveryFailedException(string message)
        : base(message)
    {
    }

    public DeliveryFailedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public bool Transient { get; }

    public int? Status { get; }

    public TimeSpan? RetryAfter { get; }

    /// <summary>A failed send as a delivery failure: network-level failures are transient; null for anything else (a fault, not a refusal).</summary>
    public static DeliveryFailedException? From(Exception e) => e switch
    {
        DeliveryFailedException failed => failed,
        HttpRequestException or TimeoutException or TaskCanceledException or IOException => new DeliveryFailedException(e.Message, transient: true, inner: e),
        _ => null,
    };
}
