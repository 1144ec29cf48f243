using System.Net;
using System.Net.Http.Headers;

namespace WinterOps.Azure.Notifications;

/// <summary>What the external channels share about HTTP: which answers are worth retrying, Retry-After, safe URLs.</summary>
public static class ChannelHttp
{
    /// <summary>Timeout of one request to Service Bus, Graph or a webhook. The delivery loop retries, not the channel.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>429, 408 and 5xx: the receiver is busy or broken for now. Every other failure needs a change first.</summary>
    public static bool IsTransient(int status) => status is 408 or 429 or >= 500;

    /// <summary>The delay a Retry-After header asks for (seconds or an HTTP date), never negative; null when absent.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, TimeProvider time) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>
    /// A failed answer as the delivery loop needs it. <paramref name="what"/> names the receiver in the message.
    /// </summary>
    public static DeliveryFailedException Failure(string what, HttpResponseMessage response, TimeProvider time)
    {
        var status = (int)response.StatusCode;
        return new DeliveryFailedException(
            $"{what} answered {status} {response.ReasonPhrase}", IsTransient(status), status, RetryAfter(response.Headers.RetryAfter, time));
    }

    /// <summary>A request that got no answer (connection refused, reset, timed out): always worth retrying.</summary>
    public static DeliveryFailedException NoAnswer(string what, Exception e) =>
        new($"{what} could not be reached: {e.Message}", transient: true, inner: e);

    /// <summary>
    /// Parses a configured endpoint: https, or plain http to a loopback host only (a local fake). Anything
    /// else fails at start-up, so a typo never sends notifications in clear text.
    /// </summary>
    public static Uri SecureUrl(string setting, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException($"{setting} must be an absolute https URL; '{value}' is not.");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
        {
            throw new InvalidOperationException($"{setting} must use https; plain http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]), not '{uri.Host}'.");
        }

        return uri;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Joins a base URL and a path such as <c>/api/placements/P1</c>; an absolute link is kept as it is.</summary>
    public static string Absolute(Uri? baseUrl, string link) =>
        Uri.TryCreate(link, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal) ? absolute.ToString()
        : baseUrl is null ? link
        : baseUrl.ToString().TrimEnd('/') + "/" + link.TrimStart('/');
}
