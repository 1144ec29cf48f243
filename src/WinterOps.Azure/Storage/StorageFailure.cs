using Azure;

namespace WinterOps.Azure.Storage;

/// <summary>Tells a storage outage (retry later: HTTP 503) from every other failure.</summary>
public static class StorageFailure
{
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RequestFailedException e => e.Status is 0 or 408 or 500 or 502 or 503 or 504 || IsUnavailableInner(e),
        AggregateException e => e.InnerExceptions.Count > 0 && e.InnerExceptions.All(IsUnavailable),
        HttpRequestException or TimeoutException or System.Net.Sockets.SocketException => true,
        TaskCanceledException e => e.InnerException is TimeoutException,
        _ => false,
    };

    private static bool IsUnavailableInner(Exception e) => e.InnerException is { } inner && IsUnavailable(inner);
}
