using System.Diagnostics;

namespace WinterOps.Bench;

/// <summary>The kinds of storage request an operation makes, told apart by method and URL path.</summary>
internal enum RequestKind
{
    /// <summary>GET on a table with a filter (e.g. all care-home rows, the open offers on the board, a placement's history).</summary>
    Query,

    /// <summary>GET of one entity by PartitionKey and RowKey (a placement, care-home, partner or return row; a Durable instance).</summary>
    PointRead,

    /// <summary>POST $batch: an entity-group transaction (a placement, care-home or return change; Durable's history).</summary>
    Transaction,

    /// <summary>Another write to a table outside a transaction: insert, update, merge or delete of one entity.</summary>
    TableWrite,

    /// <summary>POST .../messages: a queue message (Durable's control and work-item messages).</summary>
    QueuePut,

    /// <summary>GET .../messages: a receive or peek (Durable's queue polling).</summary>
    QueueReceive,

    /// <summary>DELETE .../messages/{id}: a message done with.</summary>
    QueueDelete,

    Other,
}

/// <summary>
/// Storage requests by kind (count and total ms), from the activities .NET's HttpClient creates for
/// each request. HttpClient creates them only while someone listens; the app's own OpenTelemetry
/// tracing listens whenever the app runs (at every level of the default run), so listening too costs
/// nothing extra worth speaking of. Azure requests are told apart from others by port.
/// </summary>
internal sealed class StorageKinds : IDisposable
{
    private static readonly int Kinds = Enum.GetValues<RequestKind>().Length;
    private readonly long[] _counts = new long[Kinds];
    private readonly long[] _ticks = new long[Kinds];
    private readonly ActivityListener _listener;
    private readonly int _tablePort;
    private readonly int _queuePort;

    public StorageKinds(int tablePort, int queuePort)
    {
        _tablePort = tablePort;
        _queuePort = queuePort;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Counts and total ms per kind so far.</summary>
    public (long[] Counts, double[] Ms) Read() =>
        (_counts.Select((_, i) => Interlocked.Read(ref _counts[i])).ToArray(),
         _ticks.Select((_, i) => Interlocked.Read(ref _ticks[i]) / 10_000.0).ToArray());

    public void Dispose() => _listener.Dispose();

    private void OnStopped(Activity activity)
    {
        if (activity.GetTagItem("server.port") is not int port || (port != _tablePort && port != _queuePort))
        {
            return;
        }

        var method = activity.GetTagItem("http.request.method") as string;
        var url = activity.GetTagItem("url.full") as string ?? "";
        var path = url.Split('?')[0];
        var kind = (port, method) switch
        {
            _ when port == _queuePort && method == "POST" && path.EndsWith("/messages", StringComparison.Ordinal) => RequestKind.QueuePut,
            _ when port == _tablePort && method == "POST" && path.EndsWith("/$batch", StringComparison.Ordinal) => RequestKind.Transaction,
            _ when port == _tablePort && method == "GET" && path.Contains("(PartitionKey=", StringComparison.Ordinal) => RequestKind.PointRead,
            _ when port == _tablePort && method == "GET" => RequestKind.Query,
            _ when port == _tablePort && method is "POST" or "PUT" or "PATCH" or "MERGE" or "DELETE" => RequestKind.TableWrite,
            _ when port == _queuePort && method == "GET" && path.EndsWith("/messages", StringComparison.Ordinal) => RequestKind.QueueReceive,
            _ when port == _queuePort && method == "DELETE" && path.Contains("/messages/", StringComparison.Ordinal) => RequestKind.QueueDelete,
            _ => RequestKind.Other,
        };
        Interlocked.Increment(ref _counts[(int)kind]);
        Interlocked.Add(ref _ticks[(int)kind], activity.Duration.Ticks);
    }
}
