using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WinterOps.LocalHost.Durable;

/// <summary>What <see cref="LocalDurableHost"/> needs, fixed at registration time.</summary>
internal sealed record LocalDurableOptions(
    AzureStorageOrchestrationServiceSettings Storage,
    string ConnectionString,
    int GrpcPort,
    TimeSpan StartTimeout,
    TimeSpan DrainTimeout);

/// <summary>
/// Owns the Durable back end of the local host: the Azure Storage orchestration service and the
/// <see cref="TaskHubGrpcServer"/> sidecar on a loopback HTTP/2 port, in a small web host of its own so that its
/// lifetime (and its async void start/stop handlers) runs when this class says, not on the app's SIGTERM.
/// Starts before every hosted service (the worker included) and stops after the worker.
/// </summary>
internal sealed partial class LocalDurableHost : IHostedLifecycleService, IAsyncDisposable
{
    readonly LocalDurableOptions _options;
    readonly IServiceProvider _services;
    readonly ILoggerFactory _loggerFactory;
    readonly ILogger _logger;
    readonly AzureStorageOrchestrationService _service;
    WebApplication? _sidecar;

    public LocalDurableHost(LocalDurableOptions options, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        _options = options;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LocalDurableHost>();
        options.Storage.LoggerFactory = loggerFactory;
        _service = new AzureStorageOrchestrationService(options.Storage);

        // The worker and client read their channel when they are constructed, before any hosted service starts,
        // so the address is fixed here; Kestrel binds it in StartingAsync.
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{options.GrpcPort}");
    }

    public GrpcChannel Channel { get; }

    /// <summary>Picks a free loopback port (the small race with another binder is acceptable for a local host).</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        Stopwatch sw = Stopwatch.StartNew();

        // Create the hub's tables, queues and containers now, awaited and bounded: the sidecar would otherwise do it
        // in an async void handler, where a failure kills the process and an unreachable Azurite hangs forever.
        try
        {
            await _service.CreateIfNotExistsAsync().WaitAsync(_options.StartTimeout, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"Durable task hub '{_options.Storage.TaskHubName}' could not be created in its storage account within "
                + $"{_options.StartTimeout.TotalSeconds:0} s (is Azurite running, and is the connection string right?): {e.Message}", e);
        }

        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
            k.Listen(IPAddress.Loopback, _options.GrpcPort, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IOrchestrationService>(_service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(_service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();

        // Only this class stops the sidecar: without this its console lifetime would act on SIGTERM by itself,
        // racing the worker's shutdown.
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        WebApplication app = builder.Build();
        app.MapGrpcService<TaskHubGrpcServer>();

        // Constructed before start so its ApplicationStarted handler (wait for the worker, then start the
        // service's dispatch) is registered deterministically.
        app.Services.GetRequiredService<TaskHubGrpcServer>();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        _sidecar = app;
        Log.SidecarStarted(_logger, _options.Storage.TaskHubName, _options.Storage.WorkerId, _options.GrpcPort, sw.ElapsedMilliseconds);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops the Durable worker before anything else, so no stream is left open for the sidecar to wait on.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Stopwatch sw = Stopwatch.StartNew();
        foreach (DurableTaskWorker worker in _services.GetServices<IHostedService>().OfType<DurableTaskWorker>())
        {
            await worker.StopAsync(cancellationToken);
        }

        Log.WorkerStopped(_logger, sw.ElapsedMilliseconds);
    }

    /// <summary>Stops the sidecar, then waits (bounded) until this worker owns no partition, so the next start picks them up at once.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_sidecar is null)
        {
            return;
        }

        if (!ServiceStarted())
        {
            // Stopped before the worker ever connected (a quick start and stop): the sidecar would stop a service
            // it never started, and its async void stop handler would kill the process with a NullReferenceException.
            await _sidecar.DisposeAsync();
            _sidecar = null;
            return;
        }

        Stopwatch sw = Stopwatch.StartNew();

        // Fires the sidecar's ApplicationStopping: it stops its dispatchers and then the service, whose StopAsync
        // only starts draining and releasing partition leases. Nothing awaits that, so watch the table instead.
        await _sidecar.StopAsync(cancellationToken);
        bool released = await WaitForPartitionsReleasedAsync(cancellationToken);
        if (released)
        {
            Log.PartitionsReleased(_logger, _options.Storage.TaskHubName, sw.ElapsedMilliseconds);
        }
        else
        {
            Log.PartitionsStillOwned(_logger, _options.Storage.TaskHubName, _options.Storage.WorkerId, _options.DrainTimeout.TotalSeconds);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Whether the sidecar has started the storage service (it does so once the worker connects). The provider
    /// exposes this only as a private field; if a later version renames it, assume started (the old behaviour).
    /// </summary>
    bool ServiceStarted() =>
        typeof(AzureStorageOrchestrationService).GetField("isStarted", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?.GetValue(_service) is not false;

    public async ValueTask DisposeAsync()
    {
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        Channel.Dispose();
        _service.Dispose();
    }

    async Task<bool> WaitForPartitionsReleasedAsync(CancellationToken cancellationToken)
    {
        var table = new TableClient(_options.ConnectionString, $"{_options.Storage.TaskHubName}Partitions");
        string filter = TableClient.CreateQueryFilter($"CurrentOwner eq {_options.Storage.WorkerId}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DrainTimeout);
        try
        {
            while (true)
            {
                bool owned = false;
                await foreach (TableEntity _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], timeout.Token))
                {
                    owned = true;
                    break;
                }

                if (!owned)
                {
                    return true;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
#pragma warning disable CA1031 // Shutdown must finish: a storage error here only means the next start may wait for lease expiry.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.PartitionCheckFailed(_logger, e);
            return false;
        }
    }

    /// <summary>A host lifetime that never stops the host by itself.</summary>
    sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Durable sidecar for task hub {HubName} (worker {WorkerId}) listening on 127.0.0.1:{Port}, started in {ElapsedMs} ms")]
        public static partial void SidecarStarted(ILogger logger, string hubName, string workerId, int port, long elapsedMs);

        [LoggerMessage(2, LogLevel.Information, "Durable worker stopped in {ElapsedMs} ms")]
        public static partial void WorkerStopped(ILogger logger, long elapsedMs);

        [LoggerMessage(3, LogLevel.Information, "Durable task hub {HubName}: partitions released {ElapsedMs} ms after stop")]
        public static partial void PartitionsReleased(ILogger logger, string hubName, long elapsedMs);

        [LoggerMessage(4, LogLevel.Warning, "Durable task hub {HubName}: worker {WorkerId} still owns partitions after {Seconds} s; the next start waits for the leases to expire")]
        public static partial void PartitionsStillOwned(ILogger logger, string hubName, string workerId, double seconds);

        [LoggerMessage(5, LogLevel.Warning, "Could not read the partition table at shutdown")]
        public static partial void PartitionCheckFailed(ILogger logger, Exception exception);
    }
}
