namespace WinterOps.Core.Workflows;

/// <summary>
/// What must follow an event, decided by a workflow's rules and carried out by its orchestration's
/// activities, at least once; receivers de-duplicate by the notification id.
/// </summary>
public abstract record Reaction
{
    private Reaction()
    {
    }

    /// <summary>Tell people or systems: delivered to the inbox and the configured channels.</summary>
    public sealed record Notify(Notification Notification) : Reaction;

    /// <summary>
    /// Run <paramref name="Command"/> on a stream of <paramref name="Workflow"/>, now or at
    /// <paramref name="DueAt"/> (a durable timer). Timers are never cancelled: the target decider
    /// ignores a command that no longer applies.
    /// </summary>
    public sealed record Send(string Workflow, string Key, object Command, DateTimeOffset? DueAt = null) : Reaction;
}

/// <summary>Who a notification is for: an organisation (ODS code, CQC location id) or a role.</summary>
public sealed record Recipient(RecipientKind Kind, string Id)
{
    public static Recipient Org(string id) => new(RecipientKind.Org, id);

    public static Recipient Role(string role) => new(RecipientKind.Role, role);

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Id}";
}

public enum RecipientKind
{
    Org,
    Role,
}

/// <summary>
/// A notification intent: data, not a message. It carries ids, codes, dates and links only, never
/// patient-identifiable or free-text clinical data. <see cref="AlsoTo"/> sends the same notice to many
/// recipients as one notification (a round's hundreds of partners in one).
/// <see cref="People"/> are Entra user ids to reach personally (Teams), e.g. the executive on call.
/// </summary>
public sealed record Notification(
    string Type,
    Recipient To,
    string Title,
    string Subject,
    IReadOnlyDictionary<string, string> Data,
    string? Link = null,
    IReadOnlyList<Recipient>? AlsoTo = null,
    Severity Severity = Severity.Info,
    IReadOnlyList<string>? People = null)
{
    public IEnumerable<Recipient> Recipients => AlsoTo is null ? [To] : [To, .. AlsoTo];
}

/// <summary>How urgent a notification is; partner systems filter on it.</summary>
public enum Severity
{
    Info,
    Warning,
    Critical,
}
