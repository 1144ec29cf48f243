using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace WinterOps.Azure.Notifications;

/// <summary>The parts of a Service Bus connection string the channel uses.</summary>
public sealed record ServiceBusConnection(string Namespace, string KeyName, string Key)
{
    /// <summary>Parses <c>Endpoint=sb://{namespace}/;SharedAccessKeyName=...;SharedAccessKey=...</c> (other parts ignored).</summary>
    public static ServiceBusConnection Parse(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Endpoint", out var endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "sb"
            || !parts.TryGetValue("SharedAccessKeyName", out var keyName) || !parts.TryGetValue("SharedAccessKey", out var key))
        {
            throw new InvalidOperationException(
                $"{ServiceBusOptions.Section}:ConnectionString must read Endpoint=sb://<namespace>/;SharedAccessKeyName=<name>;SharedAccessKey=<key>.");
        }

        return new ServiceBusConnection(uri.Host, keyName, key);
    }
}

/// <summary>
/// Shared Access Signature tokens for one Service Bus entity, as the REST API takes them in
/// <c>Authorization</c>: <c>SharedAccessSignature sr={enc(uri)}&amp;sig={enc(base64(HMAC-SHA256(key, enc(uri) + "\n" + expiry)))}&amp;se={expiry}&amp;skn={keyName}</c>.
/// A token lives <see cref="Validity"/> and is reused until <see cref="RenewBefore"/> its expiry.
/// </summary>
public sealed class ServiceBusSas(string resourceUri, string keyName, string key, TimeProvider time)
{
    public static readonly TimeSpan Validity = TimeSpan.FromHours(1);

    public static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    private readonly Lock _lock = new();
    private (string Token, DateTimeOffset Expiry)? _current;

    /// <summary>The resource the tokens are for: the lower-case entity URI.</summary>
    public string ResourceUri { get; } = resourceUri.ToLowerInvariant();

    /// <summary>A token valid for at least <see cref="RenewBefore"/>.</summary>
    public string Token()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_current is not { } current || current.Expiry - now < RenewBefore)
            {
                var expiry = now + Validity;
                current = (Create(ResourceUri, keyName, key, expiry), expiry);
                _current = current;
            }

            return current.Token;
        }
    }

    /// <summary>One token for <paramref name="resourceUri"/> expiring at <paramref name="expiry"/> (whole seconds).</summary>
    public static string Create(string resourceUri, string keyName, string key, DateTimeOffset expiry)
    {
        var resource = WebUtility.UrlEncode(resourceUri);
        var se = expiry.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(resource + "\n" + se)));
        return $"SharedAccessSignature sr={resource}&sig={WebUtility.UrlEncode(signature)}&se={se}&skn={WebUtility.UrlEncode(keyName)}";
    }
}
