using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
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

/// <summary>The smallest orchestration: start, call one activity, complete. Found by <see cref="LocalFunctions.Find"/> like the app's.</summary>
internal static class BenchOrchestration
{
    public const string Name = "BenchOrchestration";
    public const string Activity = "BenchActivity";

    [Function(Name)]
    public static async Task<long> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await context.CallActivityAsync<long>(Activity, context.GetInput<long>());
    }

    [Function(Activity)]
    public static long Increment([ActivityTrigger] long n) => n + 1;
}

/// <summary>
/// The raw Durable baseline: <see cref="BenchOrchestration"/> on the local host's own Durable engine
/// (<see cref="LocalDurableServiceCollectionExtensions.AddLocalDurable"/>: Worker.Grpc and Client.Grpc against the
/// in-process sidecar over the Azure Storage provider), on the same Azurite, with the app's host.json settings and a
/// task hub of its own. One operation starts an instance through the <see cref="DurableTaskClient"/> and polls
/// <see cref="DurableTaskClient.GetInstanceAsync(string, bool, CancellationToken)"/> until it has completed, with the
/// same back-off as the app's endpoints use while they wait for a decision (10 ms, x1.5, at most 200 ms).
/// </summary>
internal sealed class RawOrchestration : IAsyncDisposable
{
    /// <summary>As the app's Placements:DecisionWait: an instance not completed by then counts as failed.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly IHost _host;
    private readonly ConcurrentQueue<double> _engineMs = new();

    private RawOrchestration(IHost host, string hubName)
    {
        _host = host;
        HubName = hubName;
        Client = host.Services.GetRequiredService<IDurableTaskClientProvider>().GetClient();
    }

    public string HubName { get; }

    public DurableTaskClient Client { get; }

    public static async Task<RawOrchestration> StartAsync(AzuriteServer azurite)
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
        string[] mine = [BenchOrchestration.Name, BenchOrchestration.Activity];
        var functions = LocalFunctions.Find(typeof(BenchOrchestration).Assembly).Where(f => mine.Contains(f.Name)).ToList();
        builder.Services.AddLocalDurable(builder.Configuration, settings, azurite.ConnectionString, WinterOpsServices.DurableJson, functions);
        var host = builder.Build();
        await host.StartAsync();
        var raw = new RawOrchestration(host, hubName);

        // The sidecar starts dispatching once the worker has connected: wait for a first instance to complete.
        var clock = Stopwatch.StartNew();
        while (await raw.RunOnceAsync(0) != Outcome.Ok)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"Bench task hub {hubName}: no orchestration completed within 60 s of start.");
            }
        }

        return raw;
    }

    /// <summary>Starts one instance and polls until it has completed (Ok) or failed, or the bound is past (Failed).</summary>
    public async Task<Outcome> RunOnceAsync(long n, Action<string>? failure = null)
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(BenchOrchestration.Name, n);
        var until = Stopwatch.GetTimestamp() + (long)(Bound.TotalSeconds * Stopwatch.Frequency);
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var instance = await Client.GetInstanceAsync(id, getInputsAndOutputs: false);
            if (instance is { IsCompleted: true })
            {
                if (instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
                {
                    _engineMs.Enqueue((instance.LastUpdatedAt - instance.CreatedAt).TotalMilliseconds);
                    return Outcome.Ok;
                }

                failure?.Invoke($"instance {id}: {instance.RuntimeStatus} {instance.FailureDetails?.ErrorMessage}");
                return Outcome.Failed;
            }

            if (Stopwatch.GetTimestamp() >= until)
            {
                failure?.Invoke($"instance {id}: still {instance?.RuntimeStatus.ToString() ?? "unknown"} after {Bound.TotalSeconds:0} s");
                return Outcome.Failed;
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 200));
        }
    }

    /// <summary>
    /// The engine's own time per completed instance, from its timestamps (created to last updated, both set by the
    /// sidecar in this process): the latency without the client's polling. Every instance so far, warm-up included.
    /// </summary>
    public (int Count, double P50Ms, double P99Ms) EngineTime()
    {
        var sorted = _engineMs.Order().ToArray();
        return sorted.Length == 0
            ? (0, double.NaN, double.NaN)
            : (sorted.Length, sorted[(sorted.Length - 1) / 2], sorted[Math.Max(0, (int)Math.Ceiling(0.99 * sorted.Length) - 1)]);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        await ((IAsyncDisposable)_host).DisposeAsync(); // the Durable host is IAsyncDisposable only
    }
}
