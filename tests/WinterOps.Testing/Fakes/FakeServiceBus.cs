using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WinterOps.Testing.Fakes;

/// <summary>A message the fake topic accepted.</summary>
public sealed record ReceivedMessage(
    string MessageId, string? Label, string? CorrelationId, IReadOnlyDictionary<string, string> UserProperties, string Body);

/// <summary>
/// An in-process fake of the Service Bus REST send API for one topic with duplicate detection: <c>POST
/// /{topic}/messages</c>, single (BrokerProperties header, one header per custom property) or batch
/// (<c>application/vnd.microsoft.servicebus.json</c>). It checks the Authorization header as Service Bus
/// would: a SAS token signed with <see cref="Key"/> for <c>https://{namespace}/{topic}</c> and not expired, or
/// <c>Bearer {token}</c> when a bearer token is set; otherwise 401. Bodies over 256 KB get 413. Accepted
/// messages are kept once per MessageId (<see cref="Messages"/>); scripted answers (<see cref="Enqueue"/>)
/// come after the auth check, and a scripted failure accepts nothing.
/// </summary>
public sealed class FakeServiceBus : IAsyncDisposable
{
    public const string Namespace = "winterops-test.servicebus.windows.net";
    public const string KeyName = "winterops-send";
    public const int MaxRequestBytes = 256 * 1024;

    // Headers that are not custom message properties in the single-message form.
    private static readonly HashSet<string> StandardHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Authorization", "BrokerProperties", "Connection", "Expect", "Accept",
        "Accept-Encoding", "User-Agent", "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context", "x-ms-retrypolicy",
    };

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ReceivedMessage> _byId = [];
    private readonly List<ReceivedMessage> _messages = [];
    private readonly TimeProvider _time;
    private FakeHttpServer _server = null!;

    private FakeServiceBus(string topic, string? bearerToken, TimeProvider time)
    {
        Topic = topic;
        BearerToken = bearerToken;
        _time = time;
    }

    public string Topic { get; }

    /// <summary>A random key made for this instance: obviously not a secret.</summary>
    public string Key { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>When set, <c>Bearer {token}</c> is accepted (as an Entra token would be).</summary>
    public string? BearerToken { get; }

    public string ConnectionString => $"Endpoint=sb://{Namespace}/;SharedAccessKeyName={KeyName};SharedAccessKey={Key}";

    public Uri BaseAddress => _server.BaseAddress;

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>The accepted messages, once each (duplicates by MessageId dropped), in order of arrival.</summary>
    public IReadOnlyList<ReceivedMessage> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>How many messages were accepted (without copying them).</summary>
    public int MessageCount
    {
        get
        {
            lock (_lock)
            {
                return _messages.Count;
            }
        }
    }

    /// <summary>Messages accepted again with a MessageId already seen (and dropped).</summary>
    public int Duplicates { get; private set; }

    /// <summary>Off for benchmarks: requests are not kept (messages still are, for de-duplication).</summary>
    public bool Recording { get => _server.Recording; set => _server.Recording = value; }

    public static async Task<FakeServiceBus> StartAsync(string topic = "winterops-events", string? bearerToken = null, TimeProvider? time = null)
    {
        var bus = new FakeServiceBus(topic, bearerToken, time ?? TimeProvider.System);
        bus._server = await FakeHttpServer.StartAsync(bus.Answer);
        return bus;
    }

    /// <summary>Answers the next authorised request with <paramref name="status"/> instead of accepting it.</summary>
    public void Enqueue(int status, string? retryAfter = null) => _server.Enqueue(status, retryAfter);

    /// <summary>Forgets requests and messages (a benchmark between rounds).</summary>
    public void Clear()
    {
        _server.Clear();
        lock (_lock)
        {
            _byId.Clear();
            _messages.Clear();
            Duplicates = 0;
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>
    /// Checks a SAS token independently of the channel's code: the resource, the key name, the expiry and
    /// the signature over <c>{sr as sent}\n{se}</c>. Returns why it is wrong, or null when it is right.
    /// </summary>
    public string? SasProblem(string? authorization)
    {
        const string Prefix = "SharedAccessSignature ";
        if (authorization is null || !authorization.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "not a SharedAccessSignature";
        }

        var fields = authorization[Prefix.Length..].Split('&').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f.Length > 1 ? f[1] : "");
        if (fields.Keys.Order(StringComparer.Ordinal).SequenceEqual(["se", "sig", "skn", "sr"]) is false)
        {
            return $"fields {string.Join(",", fields.Keys)}";
        }

        var expected = $"https://{Namespace}/{Topic}".ToLowerInvariant();
        if (WebUtility.UrlDecode(fields["sr"]) != expected)
        {
            return $"sr {WebUtility.UrlDecode(fields["sr"])} is not {expected}";
        }

        if (fields["skn"] != KeyName)
        {
            return $"skn {fields["skn"]}";
        }

        if (!long.TryParse(fields["se"], NumberStyles.None, CultureInfo.InvariantCulture, out var se) || se <= _time.GetUtcNow().ToUnixTimeSeconds())
        {
            return $"expired or bad se {fields["se"]}";
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(Key));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(fields["sr"] + "\n" + fields["se"])));
        return WebUtility.UrlDecode(fields["sig"]) == signature ? null : "wrong signature";
    }

    private FakeAnswer? Refusal(RecordedRequest request)
    {
        if (request.Method != "POST" || request.PathAndQuery.Split('?')[0] != $"/{Topic}/messages")
        {
            return new FakeAnswer(404);
        }

        var authorization = request.Header("Authorization");
        var authorised = (BearerToken is not null && authorization == $"Bearer {BearerToken}") || SasProblem(authorization) is null;
        return !authorised ? new FakeAnswer(401)
            : Encoding.UTF8.GetByteCount(request.Body) > MaxRequestBytes ? new FakeAnswer(413)
            : null;
    }

    private FakeAnswer Answer(RecordedRequest request)
    {
        if (Refusal(request) is { } refusal)
        {
            return refusal;
        }

        var batch = request.Header("Content-Type")?.StartsWith("application/vnd.microsoft.servicebus.json", StringComparison.Ordinal) == true;
        List<ReceivedMessage> received;
        try
        {
            received = batch ? ParseBatch(request.Body) : [ParseSingle(request)];
        }
        catch (JsonException)
        {
            return new FakeAnswer(400);
        }

        lock (_lock)
        {
            foreach (var message in received)
            {
                if (!_byId.TryAdd(message.MessageId, message))
                {
                    Duplicates++;
                    continue;
                }

                _messages.Add(message);
            }
        }

        return new FakeAnswer(201);
    }

    private static ReceivedMessage ParseSingle(RecordedRequest request)
    {
        using var broker = JsonDocument.Parse(request.Header("BrokerProperties") ?? "{}");
        var properties = request.Headers.Where(h => !StandardHeaders.Contains(h.Key))
            .ToDictionary(h => h.Key, h => h.Value.StartsWith('"') ? JsonSerializer.Deserialize<string>(h.Value)! : h.Value);
        return Message(broker.RootElement, properties, request.Body);
    }

    private static List<ReceivedMessage> ParseBatch(string body)
    {
        using var items = JsonDocument.Parse(body);
        return items.RootElement.EnumerateArray().Select(item => Message(
            item.GetProperty("BrokerProperties"),
            item.TryGetProperty("UserProperties", out var user) ? user.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString()) : [],
            item.GetProperty("Body").GetString()!)).ToList();
    }

    private static ReceivedMessage Message(JsonElement broker, Dictionary<string, string> properties, string body) =>
        new(broker.TryGetProperty("MessageId", out var id) ? id.GetString()! : Guid.NewGuid().ToString(),
            broker.TryGetProperty("Label", out var label) ? label.GetString() : null,
            broker.TryGetProperty("CorrelationId", out var correlation) ? correlation.GetString() : null,
            properties,
            body);
}
