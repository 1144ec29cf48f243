using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WinterOps.Functions;
using WinterOps.LocalHost;
using WinterOps.LocalHost.Durable;
using WinterOps.Testing;

namespace WinterOps.Bench;

/// <summary>
/// The smallest orchestrations, found by <see cref="LocalFunctions.Find"/> like the app's: start, call one activity,
/// complete; and one that waits for N external events, one <c>WaitForExternalEvent</c> after another, then completes.
/// </summary>
internal static class BenchOrchestration
{
    public const string Name = "BenchOrchestration";
    public const string Activity = "BenchActivity";
    public const string Events = "BenchEvents";
    public const string EventName = "Tick";

    [Function(Name)]
    public static async Task<long> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await context.CallActivityAsync<long>(Activity, context.GetInput<long>());
    }

    [Function(Activity)]
    public static long Increment([ActivityTrigger] long n) => n + 1;

    [Function(Events)]
    public static async Task<int> WaitForEventsAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var count = context.GetInput<int>();
        for (var i = 0; i < count; i++)
        {
            await context.WaitForExternalEvent<int>(EventName);
        }

        return count;
    }
}

/// <summary>
/// The raw Durable baselines: <see cref="BenchOrchestration"/> on the local host's own Durable engine
/// (<see cref="LocalDurableServiceCollectionExtensions.AddLocalDurable"/>: Worker.Grpc and Client.Grpc against the
/// in-process sidecar over the Azure Storage provider), on the given Azurite, with the app's host.json settings (or a
/// variation of them) and a task hub of its own. Instances are waited on by polling
/// <see cref="DurableTaskClient.GetInstanceAsync(string, bool, CancellationToken)"/> with the back-off the app's endpoints
/// use while they wait for a decision (10 ms, x1.5, at most 200 ms).
/// </summary>
internal sealed class RawOrchestration : IAsyncDisposable
{
    /// <summary>As the app's Placements:DecisionWait: an instance not completed by then counts as failed.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly IHost _host;
    private readonly DurableTaskClient _client;
    private readonly ConcurrentQueue<double> _engineMs = new();
    private readonly ConcurrentQueue<double> _eventRates = new();
    private readonly TableClient _history;
    private string? _lastEvents;

    private RawOrchestration(IHost host, DurableSettings settings, AzuriteServer azurite)
    {
        _host = host;
        Settings = settings;
        _client = host.Services.GetRequiredService<IDurableTaskClientProvider>().GetClient();
        _history = new TableServiceClient(azurite.ConnectionString).GetTableClient($"{settings.HubName}History");
    }

    /// <summary>The Durable settings this host runs with.</summary>
    public DurableSettings Settings { get; }

    /// <summary>Starts a host on a fresh task hub, with host.json's settings changed by <paramref name="tune"/>, once it has completed a first instance.</summary>
    public static async Task<RawOrchestration> StartAsync(AzuriteServer azurite, Func<DurableSettings, DurableSettings>? tune = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var hubName = "bench" + Guid.NewGuid().ToString("N")[..8]; // letters and digits only, as Azure Storage names need
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["DurableTaskHubName"] = hubName, // host.json's hubName is %DurableTaskHubName%
        });

        // The app's host.json (copied next to this executable by the Functions project), as LocalHostApp reads it.
        var hostJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "host.json")));
        var settings = DurableSettings.FromHostJson(hostJson, builder.Configuration);
        settings = tune?.Invoke(settings) ?? settings;
        string[] mine = [BenchOrchestration.Name, BenchOrchestration.Activity, BenchOrchestration.Events];
        var functions = LocalFunctions.Find(typeof(BenchOrchestration).Assembly).Where(f => mine.Contains(f.Name)).ToList();
        builder.Services.AddLocalDurable(builder.Configuration, settings, azurite.ConnectionString, WinterOpsServices.DurableJson, functions);
        var host = builder.Build();
        await host.StartAsync();
        var raw = new RawOrchestration(host, settings, azurite);

        // The sidecar starts dispatching once the worker has connected: wait for a first instance to complete.
        var clock = Stopwatch.StartNew();
        while (await raw.RunOnceAsync(0) != Outcome.Ok)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"Bench task hub {hubName}: no orchestration completed within 60 s of start.");
            }
        }

        raw._engineMs.Clear();
        return raw;
    }

    /// <summary>Starts one <see cref="BenchOrchestration.Name"/> instance and polls until it has completed (Ok) or failed, or the bound is past (Failed).</summary>
    public async Task<Outcome> RunOnceAsync(long n, Action<string>? failure = null)
    {
        var id = await _client.ScheduleNewOrchestrationInstanceAsync(BenchOrchestration.Name, n);
        if (await UntilAsync(id, i => i.IsCompleted, Bound) is not { } instance)
        {
            failure?.Invoke($"instance {id}: not completed after {Bound.TotalSeconds:0} s");
            return Outcome.Failed;
        }

        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            failure?.Invoke($"instance {id}: {instance.RuntimeStatus} {instance.FailureDetails?.ErrorMessage}");
            return Outcome.Failed;
        }

        _engineMs.Enqueue((instance.LastUpdatedAt - instance.CreatedAt).TotalMilliseconds);
        return Outcome.Ok;
    }

    /// <summary>
    /// Starts one <see cref="BenchOrchestration.Events"/> instance waiting for <paramref name="events"/> events; once it
    /// runs (waits for the first), <paramref name="raisers"/> concurrent callers raise them all with
    /// <see cref="DurableTaskClient.RaiseEventAsync"/>; then polls until it has completed. Failed if not within 60 s.
    /// </summary>
    public async Task<Outcome> RaiseEventsAsync(int events, int raisers, Action<string>? failure = null)
    {
        var id = await _client.ScheduleNewOrchestrationInstanceAsync(BenchOrchestration.Events, events);
        if (await UntilAsync(id, i => i.RuntimeStatus != OrchestrationRuntimeStatus.Pending, Bound) is null)
        {
            failure?.Invoke($"instance {id}: not running after {Bound.TotalSeconds:0} s");
            return Outcome.Failed;
        }

        var first = DateTimeOffset.UtcNow;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, raisers).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < events; i = Interlocked.Increment(ref next))
            {
                await _client.RaiseEventAsync(id, BenchOrchestration.EventName, i);
            }
        }));
        var limit = TimeSpan.FromSeconds(60);
        if (await UntilAsync(id, i => i.IsCompleted, limit) is not { RuntimeStatus: OrchestrationRuntimeStatus.Completed } instance)
        {
            failure?.Invoke($"instance {id}: {events} events not all taken within {limit.TotalSeconds:0} s");
            return Outcome.Failed;
        }

        _eventRates.Enqueue(events / (instance.LastUpdatedAt - first).TotalSeconds);
        _lastEvents = id;
        return Outcome.Ok;
    }

    /// <summary>
    /// The engine's own time per completed <see cref="BenchOrchestration.Name"/> instance, from its timestamps (created to
    /// last updated, both set by the sidecar in this process): the latency without the client's polling. Warm-up included.
    /// </summary>
    public (int Count, double P50Ms, double P99Ms) EngineTime()
    {
        var sorted = _engineMs.Order().ToArray();
        return sorted.Length == 0
            ? (0, double.NaN, double.NaN)
            : (sorted.Length, sorted[(sorted.Length - 1) / 2], sorted[Math.Max(0, (int)Math.Ceiling(0.99 * sorted.Length) - 1)]);
    }

    /// <summary>Events per second into one instance from the first raise to its completion (its last-updated timestamp: no client polling); the median of all instances, warm-up included.</summary>
    public double EngineEventRate() => _eventRates.IsEmpty ? double.NaN : _eventRates.Order().ElementAt((_eventRates.Count - 1) / 2);

    /// <summary>How many episodes (OrchestratorStarted rows in the task hub's history) the last events instance took for its events.</summary>
    public async Task<int?> EpisodesOfLastEventsAsync()
    {
        if (_lastEvents is null)
        {
            return null;
        }

        var episodes = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {_lastEvents} and EventType eq {"OrchestratorStarted"}");
        await foreach (var _ in _history.QueryAsync<TableEntity>(filter, select: ["EventType"]))
        {
            episodes++;
        }

        return episodes;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        await ((IAsyncDisposable)_host).DisposeAsync(); // the Durable host is IAsyncDisposable only
    }

    private async Task<OrchestrationMetadata?> UntilAsync(string id, Func<OrchestrationMetadata, bool> done, TimeSpan bound)
    {
        var until = Stopwatch.GetTimestamp() + (long)(bound.TotalSeconds * Stopwatch.Frequency);
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            if (await _client.GetInstanceAsync(id, getInputsAndOutputs: false) is { } instance && done(instance))
            {
                return instance;
            }

            if (Stopwatch.GetTimestamp() >= until)
            {
                return null;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 200));
        }
    }
}
