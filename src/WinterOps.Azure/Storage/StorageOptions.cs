using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace WinterOps.Azure.Storage;

/// <summary>
/// Where WinterOps keeps its tables and queues. Read from the Functions-style connection named
/// <c>Storage</c>: either a connection string (<c>Storage</c>, used locally with Azurite) or
/// identity-based service URIs (<c>Storage__tableServiceUri</c>, <c>Storage__queueServiceUri</c>,
/// used in Azure with the app's managed identity; no keys).
/// </summary>
public sealed class StorageAccount
{
    public const string ConnectionName = "Storage";

    public StorageAccount(IConfiguration configuration)
    {
        var connectionString = configuration[ConnectionName];
        var section = configuration.GetSection(ConnectionName);
        Prefix = configuration["StorageNamePrefix"] ?? "";
        if (Prefix.Any(c => !char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c)))
        {
            throw new InvalidOperationException("StorageNamePrefix may hold only lower-case letters and digits.");
        }

        var tableOptions = new TableClientOptions();
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        Tune(tableOptions);
        Tune(queueOptions);

        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            Tables = new TableServiceClient(connectionString, tableOptions);
            Queues = new QueueServiceClient(connectionString, queueOptions);
        }
        else if (section["tableServiceUri"] is { } tableUri && section["queueServiceUri"] is { } queueUri)
        {
            TokenCredential credential = section["clientId"] is { } clientId
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new DefaultAzureCredential();
            Tables = new TableServiceClient(new Uri(tableUri), credential, tableOptions);
            Queues = new QueueServiceClient(new Uri(queueUri), credential, queueOptions);
        }
        else
        {
            throw new InvalidOperationException(
                "Storage is not configured: set 'Storage' to a connection string, or 'Storage__tableServiceUri' and 'Storage__queueServiceUri'.");
        }
    }

    public TableServiceClient Tables { get; }

    public QueueServiceClient Queues { get; }

    /// <summary>Prepended to every table and queue name, so several instances (tests) share one account.</summary>
    public string Prefix { get; }

    public TableClient Table(string name) => Tables.GetTableClient(Prefix + name);

    public QueueClient Queue(string name) => Queues.GetQueueClient(Prefix.Length == 0 ? name : $"{Prefix}-{name}");

    /// <summary>Fail fast enough for an API caller: a few quick retries, then 503 with Retry-After.</summary>
    private static void Tune(global::Azure.Core.ClientOptions options)
    {
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }
}

/// <summary>The tables and queues WinterOps uses.</summary>
public static class StorageNames
{
    public const string StreamsTable = "streams";
    public const string InboxTable = "inbox";
    public const string IdempotencyTable = "idempotency";
    public const string OffersTable = "offers";
    public const string DeadLettersTable = "deadletters";
    public const string DurableChecksTable = "durablechecks";
    public const string CareHomesTable = "carehomes";
    public const string PlacementsTable = "placements";
    public const string RoundsTable = "rounds";
    public const string EscalationsTable = "escalations";

    public const string DispatchQueue = "outbox-dispatch";
    public const string CommandsQueue = "workflow-commands";
    public const string TimersQueue = "workflow-timers";
    public const string DeliveriesQueue = "notification-deliveries";

    public static IReadOnlyList<string> Tables { get; } = [StreamsTable, InboxTable, IdempotencyTable, OffersTable, DeadLettersTable, DurableChecksTable, CareHomesTable, PlacementsTable, RoundsTable, EscalationsTable];

    public static IReadOnlyList<string> Queues { get; } = [DispatchQueue, CommandsQueue, TimersQueue, DeliveriesQueue];
}
