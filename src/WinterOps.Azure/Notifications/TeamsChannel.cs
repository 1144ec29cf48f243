using System.Globalization;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Authentication;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using KeyValuePair = Microsoft.Graph.Models.KeyValuePair;
using ToRecipientsBody = Microsoft.Graph.Teamwork.SendActivityNotificationToRecipients.SendActivityNotificationToRecipientsPostRequestBody;
using ToUserBody = Microsoft.Graph.Users.Item.Teamwork.SendActivityNotification.SendActivityNotificationPostRequestBody;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// Teams activity-feed notifications to the people a notification names (<see cref="OutgoingNotification.People"/>,
/// Entra user ids), app-only through Microsoft Graph: one person → <c>POST /users/{id}/teamwork/sendActivityNotification</c>;
/// several → <c>POST /teamwork/sendActivityNotificationToRecipients</c> in chunks of <see cref="MaxRecipients"/>.
/// Activity type <c>systemDefault</c> (no manifest entry needed), the title as topic, preview and text. The
/// recipients need the WinterOps Teams app installed. The Graph SDK's own retry handler is left out: the
/// delivery loop retries, and a failed call throws <see cref="DeliveryFailedException"/>.
/// </summary>
public sealed partial class TeamsChannel : IExternalChannel, IDisposable
{
    public const int MaxRecipients = 100;

    public const int MaxPreviewChars = 150;

    private const string SystemDefault = "systemDefault";

    private static readonly string[] GraphScopes = ["https://graph.microsoft.com/.default"];

    private readonly TeamsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TeamsChannel> _logger;
    private readonly HttpClient? _http;
    private readonly GraphServiceClient? _graph;
    private readonly Uri? _linkBase;

    /// <summary>
    /// Checks the settings (fails at start-up when they are wrong). <paramref name="authentication"/> replaces the
    /// Entra token provider (tests); <paramref name="transport"/> the innermost HTTP handler.
    /// </summary>
    public TeamsChannel(
        TeamsOptions options, TimeProvider time, ILogger<TeamsChannel> logger, IAuthenticationProvider? authentication = null, HttpMessageHandler? transport = null)
    {
        _options = options;
        _time = time;
        _logger = logger;
        if (!options.GraphEnabled)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(options.LinkBaseUrl))
        {
            throw new InvalidOperationException($"{TeamsOptions.Section}:LinkBaseUrl must be set when the Teams channel is on (TenantId and ClientId set): Graph needs a link for each notification.");
        }

        _linkBase = ChannelHttp.SecureUrl($"{TeamsOptions.Section}:LinkBaseUrl", options.LinkBaseUrl);
        var graphBase = ChannelHttp.SecureUrl($"{TeamsOptions.Section}:GraphBaseUrl", options.GraphBaseUrl);
        _http = GraphClientFactory.Create(WithoutRetries(), finalHandler: transport ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        _http.Timeout = ChannelHttp.RequestTimeout;
        _graph = new GraphServiceClient(_http, authentication ?? new AzureIdentityAuthenticationProvider(Credential(options), scopes: GraphScopes, allowedHosts: null, observabilityOptions: null, isCaeEnabled: true), graphBase.ToString().TrimEnd('/'));
    }

    public string Name => "teams";

    public bool Enabled => _graph is not null;

    public async Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
    {
        var people = notification.People.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct().ToList();
        if (_graph is null || people.Count == 0)
        {
            return;
        }

        var n = notification.Notification;
        var webUrl = WebUrl(n.Link ?? "/");
        var calls = 0;
        try
        {
            if (people.Count == 1)
            {
                await _graph.Users[people[0]].Teamwork.SendActivityNotification.PostAsync(
                    new ToUserBody { Topic = Topic(n.Title, webUrl), ActivityType = SystemDefault, PreviewText = Preview(n.Title), TemplateParameters = Text(n.Title) },
                    cancellationToken: cancellationToken);
                calls++;
            }
            else
            {
                foreach (var chunk in people.Chunk(MaxRecipients))
                {
                    await _graph.Teamwork.SendActivityNotificationToRecipients.PostAsync(
                        new ToRecipientsBody
                        {
                            Topic = Topic(n.Title, webUrl),
                            ActivityType = SystemDefault,
                            PreviewText = Preview(n.Title),
                            TemplateParameters = Text(n.Title),
                            Recipients = [.. chunk.Select(id => new AadUserNotificationRecipient { UserId = id })],
                        },
                        cancellationToken: cancellationToken);
                    calls++;
                }
            }
        }
        catch (ApiException e)
        {
            LogRefused(notification.OutboxId, e.ResponseStatusCode);
            throw new DeliveryFailedException(
                $"Graph answered {e.ResponseStatusCode}: {e.Message}", ChannelHttp.IsTransient(e.ResponseStatusCode), e.ResponseStatusCode, RetryAfter(e), e);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(e, notification.OutboxId);
            throw ChannelHttp.NoAnswer("Graph", e);
        }

        LogSent(notification.OutboxId, people.Count, calls);
    }

    public void Dispose() => _http?.Dispose();

    // Fresh model objects for every request: the SDK's backing store serialises only what changed since an
    // object was last sent, so a topic shared by two bulk calls would go out empty the second time.
    private static TeamworkActivityTopic Topic(string title, string webUrl) =>
        new() { Source = TeamworkActivityTopicSource.Text, Value = Shorten(title, MaxPreviewChars), WebUrl = webUrl };

    private static ItemBody Preview(string title) => new() { Content = Shorten(title, MaxPreviewChars) };

    private static List<KeyValuePair> Text(string title) => [new KeyValuePair { Name = "systemDefaultText", Value = title }];

    /// <summary>The notification's target: a Teams deep link to the app's tab when <see cref="TeamsOptions.AppId"/> is set, else the absolute link.</summary>
    private string WebUrl(string link)
    {
        var absolute = ChannelHttp.Absolute(_linkBase, link);
        if (string.IsNullOrWhiteSpace(_options.AppId))
        {
            return absolute;
        }

        var context = $$"""{"subEntityId":"{{link}}"}""";
        return $"https://teams.microsoft.com/l/entity/{Uri.EscapeDataString(_options.AppId)}/{TeamsOptions.TabEntityId}" +
               $"?webUrl={Uri.EscapeDataString(absolute)}&context={Uri.EscapeDataString(context)}";
    }

    private static TokenCredential Credential(TeamsOptions options) => string.IsNullOrWhiteSpace(options.ClientSecret)
        ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId!))
        : new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret);

    /// <summary>The Graph SDK's default middleware without its RetryHandler: one request per call.</summary>
    private static List<DelegatingHandler> WithoutRetries() => [.. GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler)];

    private TimeSpan? RetryAfter(ApiException e)
    {
        var value = e.ResponseHeaders.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
        return value is null ? null
            : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds)
            : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? Max(date - _time.GetUtcNow())
            : null;
    }

    private static TimeSpan Max(TimeSpan wait) => wait > TimeSpan.Zero ? wait : TimeSpan.Zero;

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId}: Teams activity notification sent to {People} people in {Calls} Graph call(s)")]
    private partial void LogSent(string outboxId, int people, int calls);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: Graph answered {Status}")]
    private partial void LogRefused(string outboxId, int status);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: Graph could not be reached")]
    private partial void LogUnreachable(Exception exception, string outboxId);
}
