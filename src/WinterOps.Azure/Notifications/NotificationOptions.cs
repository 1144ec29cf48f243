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
    private static readonly HashSet<string> InboxOnly = new(StringComparer.Ordinal) { "NotificationDeadLettered" };

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
