using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WinterOps.LocalHost.Durable;

public static class LocalDurableServiceCollectionExtensions
{
    /// <summary>Configuration section for local-only overrides (tests, crash drills).</summary>
    public const string ConfigSection = "LocalHost:Durable";

    static readonly string[] QuietCategories = ["DurableTask.AzureStorage", "DurableTask.Core"];

    /// <summary>
    /// Runs the orchestrator and activity functions among <paramref name="functions"/> on a Durable Task worker
    /// (Worker.Grpc) and registers a <see cref="DurableTaskClient"/> singleton (Client.Grpc), both talking to an
    /// in-process <c>TaskHubGrpcServer</c> over <c>AzureStorageOrchestrationService</c> on
    /// <paramref name="storageConnectionString"/> (Azurite locally). Payloads use <paramref name="serializerOptions"/>.
    /// Optional settings under <c>LocalHost:Durable</c>: <c>LeaseInterval</c> (TimeSpan; shortens partition leases so a
    /// restart after a hard kill takes over quickly), <c>WorkerId</c> (default machine-pid-random: unique, so two
    /// processes never both own a partition), <c>GrpcPort</c> (default: a free port), <c>StartTimeout</c> (30 s),
    /// <c>DrainTimeout</c> (5 s, how long shutdown waits for this worker's partition leases to be released).
    /// Throws at once on an invalid hub name or an unbindable function signature.
    /// </summary>
    public static IServiceCollection AddLocalDurable(
        this IServiceCollection services,
        IConfiguration configuration,
        DurableSettings settings,
        string storageConnectionString,
        JsonSerializerOptions serializerOptions,
        IReadOnlyList<LocalFunction> functions)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(storageConnectionString);
        ArgumentNullException.ThrowIfNull(serializerOptions);

        IConfiguration local = configuration.GetSection(ConfigSection);
        var catalog = new DurableFunctionCatalog(functions, serializerOptions);
        var storage = settings.ToAzureStorageSettings(storageConnectionString);
        storage.WorkerId = local["WorkerId"] is { Length: > 0 } id
            ? id
            : $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
        if (Time(local, "LeaseInterval") is TimeSpan lease)
        {
            // The table partition manager renews every LeaseAcquireInterval and a lease lasts LeaseInterval, so keep
            // renewals well inside the lease or partitions would flap between processes.
            storage.LeaseInterval = lease;
            storage.LeaseRenewInterval = lease / 3;
            storage.LeaseAcquireInterval = lease / 3;
        }

        var options = new LocalDurableOptions(
            storage,
            storageConnectionString,
            int.TryParse(local["GrpcPort"], CultureInfo.InvariantCulture, out int port) && port > 0 ? port : LocalDurableHost.FreeLoopbackPort(),
            Time(local, "StartTimeout") ?? TimeSpan.FromSeconds(30),
            Time(local, "DrainTimeout") ?? TimeSpan.FromSeconds(5));

        // At Information the storage provider logs hundreds of lines per orchestration; configuration may still say otherwise.
        services.AddLogging(logging =>
        {
            foreach (string category in QuietCategories)
            {
                if (configuration[$"Logging:LogLevel:{category}"] is null)
                {
                    logging.AddFilter(category, LogLevel.Warning);
                }
            }
        });

        var converter = new JsonDataConverter(serializerOptions);
        services.AddSingleton(catalog);
        services.AddSingleton(options);
        services.AddSingleton<LocalDurableHost>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalDurableHost>());

        // Both read the channel via the host singleton; UseGrpc(Action) resolves lazily, at construction.
        services.AddDurableTaskWorker(worker =>
        {
            // What AddTasks does (configure the named registry options), but with the root provider for orchestrators.
            worker.Services.AddOptions<DurableTaskRegistry>(worker.Name).Configure<IServiceProvider>(catalog.Register);
            worker.Configure(o =>
            {
                o.DataConverter = converter;
                o.Concurrency.MaximumConcurrentActivityWorkItems = settings.MaxConcurrentActivityFunctions;
                o.Concurrency.MaximumConcurrentOrchestrationWorkItems = settings.MaxConcurrentOrchestratorFunctions;
            });
            worker.UseGrpc();
            worker.Services.AddOptions<Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions>(worker.Name)
                .Configure<LocalDurableHost>((o, host) => o.Channel = host.Channel);
        });
        services.AddDurableTaskClient(client =>
        {
            client.Configure(o => o.DataConverter = converter);
            client.UseGrpc();
            client.Services.AddOptions<Microsoft.DurableTask.Client.Grpc.GrpcDurableTaskClientOptions>(client.Name)
                .Configure<LocalDurableHost>((o, host) => o.Channel = host.Channel);
        });
        return services;
    }

    static TimeSpan? Time(IConfiguration section, string key) =>
        section[key] is { Length: > 0 } v ? TimeSpan.Parse(v, CultureInfo.InvariantCulture) : null;
}
