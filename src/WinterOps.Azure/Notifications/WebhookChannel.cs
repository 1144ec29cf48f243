using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// Posts an Adaptive Card (1.4) to a Teams Workflows webhook, for an ICS channel feed: escalation alerts
/// (rule, date, levels and partner, with an Acknowledge button) and unplaced placements (placement, bed type,
/// pathway, required-by, with an Open button). Other notification types are not for a channel feed and are
/// ignored. Cards carry ids and codes only: a title and at most eight facts of at most 200 characters each,
/// a few KB, well under the webhook's <see cref="MaxBytes"/>.
/// </summary>
public sealed partial class WebhookChannel : IExternalChannel
{
    public const string HttpClientName = "webhook";

    /// <summary>A Workflows webhook takes about 28 KB per message.</summary>
    public const int MaxBytes = 28 * 1024;

    /// <summary>Room for an escalation's partner breakdown (three lists of at most 10 codes, and two counts).</summary>
    private const int MaxValueChars = 400;

    // Labels of the data an escalation alert carries (EscalationWorkflow and the round's rules), in card order.
    private static readonly (string Key, string Label)[] EscalationFacts =
    [
        ("rule", "Rule"), ("date", "Date"), ("systemLevel", "System OPEL level"), ("previousLevel", "Previous level"),
        ("partners", "Partners"), ("odsCode", "Partner"), ("placementId", "Placement"), ("referringOrg", "Referring organisation"),
        ("bedType", "Bed type"), ("requiredBy", "Required by"), ("step", "Alert step"), ("acknowledgeBy", "Acknowledge by"), ("escalationId", "Escalation"),
    ];

    private static readonly (string Key, string Label)[] PlacementFacts =
    [
        ("placementId", "Placement"), ("bedType", "Bed type"), ("pathway", "Pathway"), ("requiredBy", "Required by"), ("referringOrg", "Referring organisation"),
    ];

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookChannel> _logger;
    private readonly Uri? _url;
    private readonly Uri? _linkBase;

    /// <summary>Checks the settings (fails at start-up when they are wrong); off without a webhook URL.</summary>
    public WebhookChannel(TeamsOptions options, HttpClient http, TimeProvider time, ILogger<WebhookChannel> logger)
    {
        _http = http;
        _time = time;
        _logger = logger;
        if (!options.WebhookEnabled)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(options.LinkBaseUrl))
        {
            throw new InvalidOperationException($"{TeamsOptions.Section}:LinkBaseUrl must be set when {TeamsOptions.Section}:WorkflowWebhookUrl is: the cards link to WinterOps.");
        }

        _url = ChannelHttp.SecureUrl($"{TeamsOptions.Section}:WorkflowWebhookUrl", options.WorkflowWebhookUrl!);
        _linkBase = ChannelHttp.SecureUrl($"{TeamsOptions.Section}:LinkBaseUrl", options.LinkBaseUrl);
    }

    public string Name => "webhook";

    public bool Enabled => _url is not null;

    public async Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
    {
        if (_url is null || Card(notification.Notification) is not { } card)
        {
            return;
        }

        var message = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray(new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json") };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(e, notification.OutboxId);
            throw ChannelHttp.NoAnswer("The Teams webhook", e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                LogRefused(notification.OutboxId, (int)response.StatusCode);
                throw ChannelHttp.Failure("The Teams webhook", response, _time);
            }
        }

        LogSent(notification.OutboxId, notification.Notification.Type);
    }

    /// <summary>The Adaptive Card for a notification, or null when its type does not go to a channel feed.</summary>
    public JsonObject? Card(Notification notification) => notification.Type switch
    {
        "EscalationAlert" => Card(notification, EscalationFacts, "Acknowledge", "Attention"),
        "PlacementUnplaced" => Card(notification, PlacementFacts, "Open placement", "Warning"),
        _ => null,
    };

    private JsonObject Card(Notification notification, (string Key, string Label)[] labels, string action, string colour)
    {
        var data = NotificationData.Shareable(notification.Data).ToDictionary(d => d.Key, d => d.Value);
        var facts = new JsonArray();
        foreach (var (key, label) in labels)
        {
            if (data.TryGetValue(key, out var value))
            {
                facts.Add(new JsonObject { ["title"] = label, ["value"] = Shorten(value) });
            }
        }

        var card = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["version"] = "1.4",
            ["body"] = new JsonArray(
                new JsonObject { ["type"] = "TextBlock", ["text"] = Shorten(notification.Title), ["weight"] = "Bolder", ["size"] = "Medium", ["color"] = colour, ["wrap"] = true },
                new JsonObject { ["type"] = "FactSet", ["facts"] = facts }),
            ["actions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Action.OpenUrl", ["title"] = action, ["url"] = ChannelHttp.Absolute(_linkBase, notification.Link ?? "/"),
            }),
        };
        return card;
    }

    private static string Shorten(string text) => text.Length <= MaxValueChars ? text : text[..(MaxValueChars - 1)] + "…";

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId}: {Type} card posted to the Teams webhook")]
    private partial void LogSent(string outboxId, string type);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: the Teams webhook answered {Status}")]
    private partial void LogRefused(string outboxId, int status);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: the Teams webhook could not be reached")]
    private partial void LogUnreachable(Exception exception, string outboxId);
}
