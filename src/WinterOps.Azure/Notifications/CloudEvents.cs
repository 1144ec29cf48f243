using System.Text;
using Azure.Messaging;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// Notifications as CloudEvents 1.0 (JSON format), the body of every Service Bus message:
/// <c>specversion</c> 1.0; <c>id</c> = the message id; <c>source</c> = <c>/winterops/{workflowId}</c> (the
/// workflow that caused it); <c>type</c> = <see cref="TypeFor"/>; <c>subject</c> = the notification's subject
/// (a placement id, a return date, an escalation id); <c>time</c> = when the notification was made;
/// <c>datacontenttype</c> application/json; <c>data</c> = title, link, severity, targetOrg and the
/// notification's data after <see cref="NotificationData.Shareable"/>.
/// </summary>
public static class CloudEvents
{
    public const string TypePrefix = "uk.nhs.winterops.";

    /// <summary>
    /// The CloudEvents type of a notification type: its PascalCase words, lower-cased and joined with dots
    /// (PlacementOfferDeclined → <c>uk.nhs.winterops.placement.offer.declined</c>).
    /// </summary>
    public static string TypeFor(string notificationType)
    {
        ArgumentException.ThrowIfNullOrEmpty(notificationType);
        var type = new StringBuilder(TypePrefix, TypePrefix.Length + notificationType.Length + 4);
        for (var i = 0; i < notificationType.Length; i++)
        {
            var c = notificationType[i];
            // A word starts at an upper-case letter after a lower-case one or a digit, or at the last capital
            // of an acronym (OPELReturn → opel.return).
            if (i > 0 && char.IsUpper(c) && (!char.IsUpper(notificationType[i - 1]) || (i + 1 < notificationType.Length && char.IsLower(notificationType[i + 1]))))
            {
                type.Append('.');
            }

            type.Append(char.ToLowerInvariant(c));
        }

        return type.ToString();
    }

    /// <summary>The CloudEvents source of everything a workflow stream causes.</summary>
    public static string SourceFor(string workflowId) => $"/winterops/{workflowId}";

    /// <summary>The event in the CloudEvents JSON format (Azure.Core's <see cref="CloudEvent"/>): one Service Bus message about <paramref name="targetOrg"/> (or ALL).</summary>
    public static BinaryData Serialize(OutgoingNotification outgoing, string messageId, string targetOrg)
    {
        var n = outgoing.Notification;
        var data = new Dictionary<string, string?> { ["title"] = n.Title, ["link"] = n.Link, ["severity"] = SeverityName(n.Severity), ["targetOrg"] = targetOrg };
        foreach (var (key, value) in NotificationData.Shareable(n.Data))
        {
            data.TryAdd(key, value);
        }

        var cloudEvent = new CloudEvent(SourceFor(outgoing.WorkflowId), TypeFor(n.Type), BinaryData.FromObjectAsJson(data), "application/json", CloudEventDataFormat.Json)
        {
            Id = messageId,
            Subject = n.Subject,
            Time = outgoing.CreatedAt.ToUniversalTime(),
        };
        return BinaryData.FromObjectAsJson(cloudEvent);
    }

    /// <summary>Info, Warning or Critical: the value of the Severity property partners filter on.</summary>
    public static string SeverityName(Severity severity) => severity.ToString();
}

/// <summary>
/// The last line of defence for privacy in external messages. Notifications carry ids and codes only, but
/// a bug upstream must not leak patient details to partner systems: keys that name patient data are
/// dropped, and so is the Entra id of the person alerted (Teams reaches them; partners have no use for it).
/// </summary>
public static class NotificationData
{
    private static readonly HashSet<string> Withheld = new(StringComparer.OrdinalIgnoreCase)
    {
        "patientRef", "patientName", "nhsNumber", "needsSummary", "dateOfBirth", "entraUserId",
    };

    /// <summary>The data that may leave WinterOps, in key order (stable bodies for identical notifications).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Shareable(IReadOnlyDictionary<string, string> data) =>
        data.Where(d => !Withheld.Contains(d.Key)).OrderBy(d => d.Key, StringComparer.Ordinal);
}
