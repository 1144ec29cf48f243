using System.Diagnostics.Metrics;

namespace WinterOps.Bench;

/// <summary>Storage requests counted so far: Table and Queue requests, and their total duration.</summary>
internal readonly record struct StorageCount(long Table, long Queue, double Ms)
{
    public static StorageCount operator -(StorageCount a, StorageCount b) => new(a.Table - b.Table, a.Queue - b.Queue, a.Ms - b.Ms);

    public static StorageCount operator +(StorageCount a, StorageCount b) => new(a.Table + b.Table, a.Queue + b.Queue, a.Ms + b.Ms);
}

/// <summary>
/// Counts every HTTP request this process sends to Azurite, whoever sends it (the bench's own clients, or
/// the WinterOps app running in this process), from .NET's own <c>http.client.request.duration</c>
/// metric, told apart by Azurite's ports. The duration is until the response headers arrived. (A
/// transaction refused for a stale ETag still answers 202, its refusal inside the body: retries show
/// as more transactions per operation, not as error statuses.)
/// </summary>
internal sealed class StorageMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly int _tablePort;
    private readonly int _queuePort;
    private long _table;
    private long _queue;
    private long _ticks; // 100 ns units

    public StorageMeter(int tablePort, int queuePort)
    {
        _tablePort = tablePort;
        _queuePort = queuePort;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnRequest);
        _listener.Start();
    }

    public StorageCount Read() => new(Interlocked.Read(ref _table), Interlocked.Read(ref _queue), Interlocked.Read(ref _ticks) / 10_000.0);

    public void Dispose() => _listener.Dispose();

    private void OnRequest(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        int? port = null;
        foreach (var tag in tags)
        {
            if (tag is { Key: "server.port", Value: int p })
            {
                port = p;
            }
        }

        if (port == _tablePort)
        {
            Interlocked.Increment(ref _table);
        }
        else if (port == _queuePort)
        {
            Interlocked.Increment(ref _queue);
        }
        else
        {
            return; // not storage: e.g. the bench calling the app's HTTP API
        }

        Interlocked.Add(ref _ticks, (long)(seconds * 10_000_000));
    }
}
