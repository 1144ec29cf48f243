using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>
/// Publishes notifications to a Service Bus topic with the REST API, for partner systems. One message per
/// organisation the notification is for (<c>TargetOrg</c> = its id), or one with <c>TargetOrg</c> = ALL when it
/// is for roles only. MessageId is the outbox id (one message) or <c>{outboxId}:{org}</c> (several), the same
/// on every retry, so the topic's duplicate detection keeps one copy. Several messages go in batch requests
/// (at most <see cref="MaxBatchMessages"/> and <see cref="MaxRequestBytes"/> each); when a later batch fails,
/// the retry resends the earlier ones and the topic drops them as duplicates.
/// Custom properties for subscription rules: EventType, TargetOrg, Severity and Sector (when the data has one).
/// The body is a CloudEvent (<see cref="CloudEvents"/>). Nothing is retried here: failures throw
/// <see cref="DeliveryFailedException"/> for the delivery loop.
/// </summary>
public sealed partial class ServiceBusChannel : IExternalChannel
{
    public const string HttpClientName = "servicebus";

    public const string AllOrgs = "ALL";

    public const int MaxBatchMessages = 100;

    /// <summary>Largest batch request body: under the 256 KB a Standard namespace takes, with room for headers.</summary>
    public const int MaxRequestBytes = 250 * 1024;

    public const string CloudEventsContentType = "application/cloudevents+json";

    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    private static readonly string[] EntraScopes = ["https://servicebus.azure.net/.default"];

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger<ServiceBusChannel> _logger;
    private readonly Uri? _endpoint;
    private readonly ServiceBusSas? _sas;
    private readonly TokenCredential? _credential;

    /// <summary>
    /// Checks the settings (fails at start-up when they are wrong). With a connection string the channel signs
    /// SAS tokens; otherwise it asks <paramref name="credential"/> (default: <see cref="DefaultAzureCredential"/>)
    /// for Entra tokens.
    /// </summary>
    public ServiceBusChannel(ServiceBusOptions options, HttpClient http, TimeProvider time, ILogger<ServiceBusChannel> logger, TokenCredential? credential = null)
    {
        _http = http;
        _time = time;
        _logger = logger;
        if (!options.Enabled)
        {
            return;
        }

        var connection = string.IsNullOrWhiteSpace(options.ConnectionString) ? null : ServiceBusConnection.Parse(options.ConnectionString);
        var ns = string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace) ? connection!.Namespace : HostOf(options.FullyQualifiedNamespace);
        var topic = options.TopicName.Trim('/');
        var baseUrl = string.IsNullOrWhiteSpace(options.BaseUrl)
            ? new Uri($"https://{ns}")
            : ChannelHttp.SecureUrl($"{ServiceBusOptions.Section}:BaseUrl", options.BaseUrl);
        _endpoint = new Uri($"{baseUrl.ToString().TrimEnd('/')}/{Uri.EscapeDataString(topic)}/messages?timeout=60");
        if (connection is not null)
        {
            _sas = new ServiceBusSas($"https://{ns}/{topic}", connection.KeyName, connection.Key, time);
        }
        else
        {
            _credential = credential ?? new DefaultAzureCredential();
        }
    }

    public string Name => "servicebus";

    public bool Enabled => _endpoint is not null;

    /// <summary>The URL messages are posted to (null when off).</summary>
    public Uri? Endpoint => _endpoint;

    public async Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
    {
        if (_endpoint is null)
        {
            return;
        }

        var messages = Messages(notification);
        var requests = 0;
        if (messages.Count == 1)
        {
            await PostAsync(notification.OutboxId, Single(messages[0]), cancellationToken);
            requests++;
        }
        else
        {
            foreach (var batch in Batches(messages))
            {
                await PostAsync(notification.OutboxId, batch, cancellationToken);
                requests++;
            }
        }

        LogSent(notification.OutboxId, messages.Count, requests);
    }

    /// <summary>The messages one notification becomes, in recipient order.</summary>
    private static List<ServiceBusMessage> Messages(OutgoingNotification outgoing)
    {
        var n = outgoing.Notification;
        var orgs = n.Recipients.Where(r => r.Kind == RecipientKind.Org).Select(r => r.Id).Distinct().ToList();
        if (orgs.Count == 0)
        {
            orgs.Add(AllOrgs);
        }

        return orgs.Select(org =>
        {
            var id = orgs.Count == 1 ? outgoing.OutboxId : $"{outgoing.OutboxId}:{org}";
            var properties = new List<KeyValuePair<string, string>>
            {
                new("EventType", n.Type),
                new("TargetOrg", org),
                new("Severity", CloudEvents.SeverityName(n.Severity)),
            };
            if (n.Data.TryGetValue("sector", out var sector))
            {
                properties.Add(new("Sector", sector));
            }

            return new ServiceBusMessage(id, n.Type, outgoing.WorkflowId, properties, CloudEvents.Serialize(outgoing, id, org));
        }).ToList();
    }

    private static StringContent Single(ServiceBusMessage message)
    {
        var content = new StringContent(message.Body, Encoding.UTF8, CloudEventsContentType);
        content.Headers.TryAddWithoutValidation("BrokerProperties", Json(w => BrokerProperties(w, message)));
        foreach (var (name, value) in message.Properties)
        {
            // A custom property is its own header; a string value is sent quoted, as JSON writes it.
            content.Headers.TryAddWithoutValidation(name, JsonSerializer.Serialize(value));
        }

        return content;
    }

    /// <summary>Batch request bodies: at most <see cref="MaxBatchMessages"/> messages and <see cref="MaxRequestBytes"/> each.</summary>
    private static IEnumerable<ByteArrayContent> Batches(IEnumerable<ServiceBusMessage> messages)
    {
        var items = new List<byte[]>();
        var size = 2; // [ and ]
        foreach (var message in messages)
        {
            var item = JsonBytes(w => BatchItem(w, message));
            if (items.Count > 0 && (items.Count == MaxBatchMessages || size + 1 + item.Length > MaxRequestBytes))
            {
                yield return BatchContent(items, size);
                items = [];
                size = 2;
            }

            size += (items.Count > 0 ? 1 : 0) + item.Length;
            items.Add(item);
        }

        if (items.Count > 0)
        {
            yield return BatchContent(items, size);
        }
    }

    private static ByteArrayContent BatchContent(List<byte[]> items, int size)
    {
        var body = new byte[size];
        body[0] = (byte)'[';
        var at = 1;
        foreach (var item in items)
        {
            if (at > 1)
            {
                body[at++] = (byte)',';
            }

            item.CopyTo(body, at);
            at += item.Length;
        }

        body[at] = (byte)']';
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(BatchContentType) { CharSet = "utf-8" };
        return content;
    }

    private static void BatchItem(Utf8JsonWriter w, ServiceBusMessage message)
    {
        w.WriteStartObject();
        w.WriteString("Body", message.Body);
        w.WritePropertyName("BrokerProperties");
        BrokerProperties(w, message);
        w.WriteStartObject("UserProperties");
        foreach (var (name, value) in message.Properties)
        {
            w.WriteString(name, value);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void BrokerProperties(Utf8JsonWriter w, ServiceBusMessage message)
    {
        w.WriteStartObject();
        w.WriteString("MessageId", message.MessageId);
        w.WriteString("CorrelationId", message.CorrelationId);
        w.WriteString("Label", message.Label);
        w.WriteEndObject();
    }

    private async Task PostAsync(string outboxId, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", await AuthorizationAsync(cancellationToken));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnreachable(e, outboxId);
            throw ChannelHttp.NoAnswer("Service Bus", e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                LogRefused(outboxId, (int)response.StatusCode);
                throw ChannelHttp.Failure("Service Bus", response, _time);
            }
        }
    }

    private async Task<string> AuthorizationAsync(CancellationToken cancellationToken)
    {
        if (_sas is not null)
        {
            return _sas.Token();
        }

        try
        {
            var token = await _credential!.GetTokenAsync(new TokenRequestContext(EntraScopes), cancellationToken);
            return "Bearer " + token.Token;
        }
        catch (AuthenticationFailedException e)
        {
            throw new DeliveryFailedException($"No Entra token for Service Bus: {e.Message}", transient: true, inner: e);
        }
    }

    private static string HostOf(string ns) =>
        ns.Contains("://", StringComparison.Ordinal) ? new Uri(ns).Host : ns.Trim().TrimEnd('/');

    private static string Json(Action<Utf8JsonWriter> write) => Encoding.UTF8.GetString(JsonBytes(write));

    private static byte[] JsonBytes(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    [LoggerMessage(LogLevel.Information, "Outbox {OutboxId}: {Messages} Service Bus message(s) sent in {Requests} request(s)")]
    private partial void LogSent(string outboxId, int messages, int requests);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: Service Bus answered {Status}")]
    private partial void LogRefused(string outboxId, int status);

    [LoggerMessage(LogLevel.Warning, "Outbox {OutboxId}: Service Bus could not be reached")]
    private partial void LogUnreachable(Exception exception, string outboxId);
}

/// <summary>One Service Bus message: broker properties, custom (user) properties and the CloudEvent body.</summary>
internal sealed record ServiceBusMessage(
    string MessageId, string Label, string CorrelationId, IReadOnlyList<KeyValuePair<string, string>> Properties, string Body);
