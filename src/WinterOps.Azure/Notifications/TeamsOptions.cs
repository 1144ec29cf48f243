namespace WinterOps.Azure.Notifications;

/// <summary>
/// Settings of the Teams channels (section <c>Notifications:Teams</c>): activity-feed notifications through
/// Microsoft Graph (<see cref="TeamsChannel"/>, on when <see cref="TenantId"/> and <see cref="ClientId"/> are set)
/// and Adaptive Cards to a Teams Workflows webhook (<see cref="WebhookChannel"/>, on when
/// <see cref="WorkflowWebhookUrl"/> is set).
/// </summary>
public sealed class TeamsOptions
{
    public const string Section = "Notifications:Teams";

    /// <summary>The static tab of the WinterOps Teams app that activity notifications open (its manifest entityId).</summary>
    public const string TabEntityId = "winterops";

    /// <summary>The Entra tenant of the recipients.</summary>
    public string? TenantId { get; set; }

    /// <summary>
    /// With <see cref="ClientSecret"/>: the app registration's client id. Without: the client id of the
    /// user-assigned managed identity that sends (Bicep sets <c>Notifications__Teams__ClientId</c> to it).
    /// It needs the Graph application permission TeamsActivity.Send.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>Local development only; in Azure leave empty and use the managed identity.</summary>
    public string? ClientSecret { get; set; }

    public const string DefaultGraphBaseUrl = "https://graph.microsoft.com/v1.0";

    /// <summary>Graph's base URL; empty means <see cref="DefaultGraphBaseUrl"/> (a test fake: https, or http for loopback only).</summary>
    public string GraphBaseUrl
    {
        get => string.IsNullOrWhiteSpace(field) ? DefaultGraphBaseUrl : field;
        set;
    }

    /// <summary>
    /// Where people open WinterOps, e.g. <c>https://winterops.example.nhs.uk</c>: a notification's link (a path
    /// such as <c>/api/placements/P1</c>) is made absolute with it, for the webhook card's buttons and the
    /// activity notification's target. Required when the Graph channel is on: Graph requires a
    /// <c>webUrl</c> for a text topic.
    /// </summary>
    public string? LinkBaseUrl { get; set; }

    /// <summary>
    /// The Teams app id of the WinterOps app (manifest <c>id</c>). Teams opens an activity notification's
    /// <c>webUrl</c> reliably only when it is a Teams deep link, so when this is set the target is
    /// <c>https://teams.microsoft.com/l/entity/{AppId}/winterops?webUrl={absolute link}&amp;context={"subEntityId":"{link}"}</c>
    /// (the app's tab at that page); when empty it is the absolute link itself (opened in the browser).
    /// </summary>
    public string? AppId { get; set; }

    /// <summary>A Teams Workflows "post to a channel when a webhook request is received" URL (https, or http for loopback only).</summary>
    public string? WorkflowWebhookUrl { get; set; }

    public bool GraphEnabled => !string.IsNullOrWhiteSpace(TenantId) && !string.IsNullOrWhiteSpace(ClientId);

    public bool WebhookEnabled => !string.IsNullOrWhiteSpace(WorkflowWebhookUrl);
}
