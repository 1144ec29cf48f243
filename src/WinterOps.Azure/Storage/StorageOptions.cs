using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace WinterOps.Azure.Storage;

/// <summary>
/// Where WinterOps keeps its tables. Read from the Functions-style connection named <c>Storage</c>:
/// either a connection string (<c>Storage</c>, used locally with Azurite) or the identity-based service
/// URI <c>Storage__tableServiceUri</c> (used in Azure with the app's managed identity; no keys).
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
        Tune(tableOptions);

        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            Tables = new TableServiceClient(connectionString, tableOptions);
        }
        else if (section["tableServiceUri"] is { } tableUri)
        {
            TokenCredential credential = section["clientId"] is { } clientId
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new DefaultAzureCredential();
            Tables = new TableServiceClient(new Uri(tableUri), credential, tableOptions);
        }
        else
        {
            throw new InvalidOperationException(
                "Storage is not configured: set 'Storage' to a connection string, or 'Storage__tableServiceUri'.");
        }
    }

    public TableServiceClient Tables { get; }

    /// <summary>Prepended to every table name, so several instances (tests) share one account.</summary>
    public string Prefix { get; }

    public TableClient Table(string name) => Tables.GetTableClient(Prefix + name);

    /// <summary>Fail fast enough for an API caller: a few quick retries, then 503 with Retry-After.</summary>
    private static void Tune(global::Azure.Core.ClientOptions options)
    {
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }
}

/// <summary>The tables WinterOps uses.</summary>
public static class StorageNames
{
    public const string InboxTable = "inbox";
    public const string IdempotencyTable = "idempotency";
    public const string OffersTable = "offers";
    public const string DeadLettersTable = "deadletters";
    public const string DurableChecksTable = "durablechecks";
    public const string CareHomesTable = "carehomes";
    public const string PlacementsTable = "placements";
    public const string RoundsTable = "rounds";
    public const string EscalationsTable = "escalations";
    public const string PartnersTable = "partners";
    public const string ReturnsTable = "returns";

    public static IReadOnlyList<string> Tables { get; } = [InboxTable, IdempotencyTable, OffersTable, DeadLettersTable, DurableChecksTable, CareHomesTable, PlacementsTable, RoundsTable, EscalationsTable, PartnersTable, ReturnsTable];
}
