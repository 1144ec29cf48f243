using System.Globalization;
using System.Text.Json.Nodes;
using DurableTask.AzureStorage;
using Microsoft.Extensions.Configuration;

namespace WinterOps.LocalHost.Durable;

/// <summary>
/// The Durable settings of host.json's <c>extensions.durableTask</c> section that the local host honours, so what is
/// tuned for Azure is what runs here. Unset values take the Durable Functions defaults (not DTFx's, which differ for
/// concurrency). Use <c>with</c> to override, e.g. a per-test hub name.
/// </summary>
public sealed record DurableSettings
{
    /// <summary>Task hub name (letters and digits, 3-45 chars, starting with a letter), <c>%Setting%</c> already resolved.</summary>
    public string? HubName { get; init; }

    /// <summary>Name of the app setting holding the storage connection (<c>storageProvider.connectionName</c>).</summary>
    public string ConnectionName { get; init; } = "AzureWebJobsStorage";

    /// <summary>Fixed for the life of a task hub: change it and you need a new hub name (see ARCHITECTURE §2).</summary>
    public int PartitionCount { get; init; } = 4;

    public TimeSpan MaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(30);

    public int ControlQueueBatchSize { get; init; } = 32;

    public int? ControlQueueBufferThreshold { get; init; }

    public TimeSpan? ControlQueueVisibilityTimeout { get; init; }

    public TimeSpan? WorkItemQueueVisibilityTimeout { get; init; }

    /// <summary>Durable Functions default: 10 per core.</summary>
    public int MaxConcurrentActivityFunctions { get; init; } = 10 * Environment.ProcessorCount;

    /// <summary>Durable Functions default: 10 per core.</summary>
    public int MaxConcurrentOrchestratorFunctions { get; init; } = 10 * Environment.ProcessorCount;

    public bool ExtendedSessionsEnabled { get; init; }

    public TimeSpan ExtendedSessionIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public bool UseAppLease { get; init; } = true;

    public bool UseTablePartitionManagement { get; init; } = true;

    /// <summary>
    /// Reads <c>extensions.durableTask</c> from a parsed host.json (the whole document; null or a missing section gives
    /// the defaults). <c>hubName</c> may be <c>%Setting%</c>, resolved from <paramref name="configuration"/>.
    /// </summary>
    public static DurableSettings FromHostJson(JsonNode? hostJson, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var defaults = new DurableSettings();
        if (hostJson?["extensions"]?["durableTask"] is not JsonObject durable)
        {
            return defaults;
        }

        // In host.json v2 the queue/partition knobs live under storageProvider, the function concurrency at the top.
        var storage = durable["storageProvider"] as JsonObject;
        return new DurableSettings
        {
            HubName = ResolveSetting(Str(durable, "hubName"), configuration),
            ConnectionName = Str(storage, "connectionName") ?? Str(storage, "connectionStringName") ?? defaults.ConnectionName,
            PartitionCount = Int(storage, "partitionCount") ?? defaults.PartitionCount,
            MaxQueuePollingInterval = Time(storage, "maxQueuePollingInterval") ?? defaults.MaxQueuePollingInterval,
            ControlQueueBatchSize = Int(storage, "controlQueueBatchSize") ?? defaults.ControlQueueBatchSize,
            ControlQueueBufferThreshold = Int(storage, "controlQueueBufferThreshold"),
            ControlQueueVisibilityTimeout = Time(storage, "controlQueueVisibilityTimeout"),
            WorkItemQueueVisibilityTimeout = Time(storage, "workItemQueueVisibilityTimeout"),
            UseTablePartitionManagement = Bool(storage, "useTablePartitionManagement") ?? defaults.UseTablePartitionManagement,
            MaxConcurrentActivityFunctions = Int(durable, "maxConcurrentActivityFunctions") ?? defaults.MaxConcurrentActivityFunctions,
            MaxConcurrentOrchestratorFunctions = Int(durable, "maxConcurrentOrchestratorFunctions") ?? defaults.MaxConcurrentOrchestratorFunctions,
            ExtendedSessionsEnabled = Bool(durable, "extendedSessionsEnabled") ?? defaults.ExtendedSessionsEnabled,
            ExtendedSessionIdleTimeout = Int(durable, "extendedSessionIdleTimeoutInSeconds") is int s
                ? TimeSpan.FromSeconds(s) : defaults.ExtendedSessionIdleTimeout,
            UseAppLease = Bool(durable, "useAppLease") ?? defaults.UseAppLease,
        };
    }

    /// <summary>Throws unless <paramref name="hubName"/> is a valid Azure Storage task hub name.</summary>
    public static void ValidateHubName(string? hubName)
    {
        // Azure Storage names its tables, queues and containers after the hub: a hyphen is fatal deep inside the
        // sidecar's async void start handler, so refuse it here with a message that says why.
        if (hubName is null || hubName.Length is < 3 or > 45 || !char.IsAsciiLetter(hubName[0])
            || !hubName.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidOperationException(
                $"Durable task hub name '{hubName}' is invalid: it must be 3-45 characters, letters and digits only, "
                + "starting with a letter (Azure Storage names the hub's tables and queues after it).");
        }
    }

    /// <summary>Maps these settings onto the storage provider's settings.</summary>
    public AzureStorageOrchestrationServiceSettings ToAzureStorageSettings(string connectionString)
    {
        ValidateHubName(HubName);
        var s = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = HubName!, // validated above
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            PartitionCount = PartitionCount,
            MaxQueuePollingInterval = MaxQueuePollingInterval,
            ControlQueueBatchSize = ControlQueueBatchSize,
            MaxConcurrentTaskActivityWorkItems = MaxConcurrentActivityFunctions,
            MaxConcurrentTaskOrchestrationWorkItems = MaxConcurrentOrchestratorFunctions,
            ExtendedSessionsEnabled = ExtendedSessionsEnabled,
            ExtendedSessionIdleTimeout = ExtendedSessionIdleTimeout,
            UseAppLease = UseAppLease,
            UseTablePartitionManagement = UseTablePartitionManagement,
        };
        if (ControlQueueBufferThreshold is int threshold)
        {
            s.ControlQueueBufferThreshold = threshold;
        }

        if (ControlQueueVisibilityTimeout is TimeSpan cqv)
        {
            s.ControlQueueVisibilityTimeout = cqv;
        }

        if (WorkItemQueueVisibilityTimeout is TimeSpan wqv)
        {
            s.WorkItemQueueVisibilityTimeout = wqv;
        }

        return s;
    }

    static string? ResolveSetting(string? value, IConfiguration configuration)
    {
        if (value is not { Length: > 2 } || value[0] != '%' || value[^1] != '%')
        {
            return value;
        }

        string key = value[1..^1];
        return configuration[key] is { Length: > 0 } resolved
            ? resolved
            : throw new InvalidOperationException(
                $"host.json durableTask.hubName is '{value}' but the setting '{key}' is not configured.");
    }

    static string? Str(JsonObject? o, string name) => o?[name]?.GetValue<string>();

    static int? Int(JsonObject? o, string name) => o?[name]?.GetValue<int>();

    static bool? Bool(JsonObject? o, string name) => o?[name]?.GetValue<bool>();

    static TimeSpan? Time(JsonObject? o, string name) =>
        Str(o, name) is string t ? TimeSpan.Parse(t, CultureInfo.InvariantCulture) : null;
}
