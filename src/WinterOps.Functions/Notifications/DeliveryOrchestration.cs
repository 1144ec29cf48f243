using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Notifications;

/// <summary>
/// One notification on its way to the external channels it is routed to (instance <c>delivery-{id}</c>).
/// <see cref="MaxAttempts"/> and <see cref="FirstRetry"/> are the settings when it started, so a replay waits the same.
/// </summary>
public sealed record DeliveryInput(
    string OutboxId, string WorkflowId, Notification Notification, DateTimeOffset CreatedAt, IReadOnlyList<string> Channels, int MaxAttempts, TimeSpan FirstRetry);

/// <summary>One attempt's result: delivered, or the failure and whether it is worth another attempt (after <see cref="RetryAfter"/>, when the receiver said).</summary>
public sealed record DeliveryAttempt(bool Delivered, bool Transient = false, int? Status = null, string? Reason = null, TimeSpan? RetryAfter = null);

/// <summary>A delivery that gave up, at <see cref="At"/> (the orchestration's time, so a re-run writes the same dead letter).</summary>
public sealed record DeadLetterStep(DeliveryRequest Request, int? Status, string Reason, DateTimeOffset At);

/// <summary>
/// Delivers one notification to each of its channels at once, each on its own: a Teams failure never resends the
/// Service Bus message, and a slow channel holds up nothing else. Each channel's attempts are one activity each. A
/// transient failure (429, 5xx, network, a broker that is down) is tried again after the receiver's Retry-After or an
/// exponential backoff, up to <c>Notifications__MaxAttempts</c>; a refusal (not found, forbidden, too large) is not.
/// After the last attempt the delivery is a dead letter with its reason, and the coordination centre is told.
/// </summary>
public static class DeliveryOrchestration
{
    public const string Name = "Delivery";

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    public static string InstanceId(string notificationId) => $"delivery-{notificationId}";

    [Function(Name)]
    public static async Task Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var input = context.GetInput<DeliveryInput>()!;
        await Task.WhenAll(input.Channels.Select(channel => DeliverAsync(context, input, channel)));
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: the receiver's Retry-After, else first, doubling, at most 10 minutes.</summary>
    public static TimeSpan Backoff(TimeSpan first, int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            return after < MaxBackoff ? after : MaxBackoff;
        }

        var wait = first * Math.Pow(2, Math.Min(attempt - 1, 20));
        return wait < MaxBackoff ? wait : MaxBackoff;
    }

    private static async Task DeliverAsync(TaskOrchestrationContext context, DeliveryInput input, string channel)
    {
        var attempt = 1;
        var result = await AttemptAsync(context, Request(input, channel, attempt));
        while (!result.Delivered && result.Transient && attempt < input.MaxAttempts)
        {
            await context.CreateTimer(Backoff(input.FirstRetry, attempt, result.RetryAfter), CancellationToken.None);
            result = await AttemptAsync(context, Request(input, channel, ++attempt));
        }

        if (!result.Delivered)
        {
            await context.CallActivityAsync(
                nameof(DeliveryActivities.DeadLetter),
                new DeadLetterStep(Request(input, channel, attempt), result.Status, result.Reason ?? "Not delivered.", context.CurrentUtcDateTime),
                ActivityRetry.Options);
        }
    }

    /// <summary>One attempt; an activity that fails outright (a fault, not a refusal) counts as a transient failure.</summary>
    private static async Task<DeliveryAttempt> AttemptAsync(TaskOrchestrationContext context, DeliveryRequest request)
    {
        try
        {
            return await context.CallActivityAsync<DeliveryAttempt>(nameof(DeliveryActivities.Deliver), request);
        }
        catch (TaskFailedException failed)
        {
            return new DeliveryAttempt(false, Transient: true, Reason: failed.FailureDetails.ErrorMessage);
        }
    }

    private static DeliveryRequest Request(DeliveryInput input, string channel, int attempt) =>
        new(input.OutboxId, input.WorkflowId, channel, input.Notification, input.CreatedAt, attempt);
}
