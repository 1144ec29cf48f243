using System.Globalization;
using Azure;
using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>One offer as a home's broker sees it in the home's offer list.</summary>
public sealed record OfferRow(
    string CqcLocationId, string PlacementId, string Status, int Round, string BedType, string Pathway, string RequiredBy,
    string? Locality, DateTimeOffset? ExpiresAt, DateTimeOffset UpdatedAt);

/// <summary>
/// A projection kept by the dispatcher: every offer a home has had, one partition per home, updated
/// from the offer notifications a placement sends the home. Each row remembers the placement version
/// it reflects, so a late or repeated delivery never overwrites a newer status.
/// </summary>
public sealed class OfferBoard(TableClient table) : INotificationChannel
{
    public string Name => "offer-board";

    public async Task DeliverAsync(string id, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        if (notification.To.Kind != RecipientKind.Org
            || !notification.Data.TryGetValue("offerStatus", out var status)
            || !notification.Data.TryGetValue("placementId", out var placementId))
        {
            return;
        }

        var version = VersionOf(id);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(notification.To.Id, placementId, cancellationToken: cancellationToken);
            var row = existing.HasValue ? existing.Value! : new TableEntity(notification.To.Id, placementId);
            if (existing.HasValue && row.GetInt64("Version") >= version)
            {
                return; // already reflects this or a later change
            }

            row["Version"] = version;
            row["Status"] = status;
            row["UpdatedAt"] = createdAt;
            foreach (var key in new[] { "round", "bedType", "pathway", "requiredBy", "locality", "expiresAt" })
            {
                if (notification.Data.TryGetValue(key, out var value))
                {
                    row[char.ToUpperInvariant(key[0]) + key[1..]] = value;
                }
            }

            try
            {
                if (existing.HasValue)
                {
                    await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await table.AddEntityAsync(row, cancellationToken);
                }

                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another delivery got there first: read again and compare versions.
            }
        }
    }

    public async Task<IReadOnlyList<OfferRow>> ReadAsync(string cqcLocationId, string? status, CancellationToken cancellationToken)
    {
        var filter = status is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {cqcLocationId}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {cqcLocationId} and Status eq {status}");
        var rows = new List<OfferRow>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(ToRow(e));
        }

        return rows.OrderByDescending(r => r.UpdatedAt).ToList();
    }

    /// <summary>Open offers per home, for ranking (fewest open offers first).</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountOpenAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter: "Status eq 'open'", select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            counts[e.PartitionKey] = counts.GetValueOrDefault(e.PartitionKey) + 1;
        }

        return counts;
    }

    /// <summary>A placement's notification ids are "{stream}.{version:D10}.{index}".</summary>
    private static long VersionOf(string id)
    {
        var parts = id.Split('.');
        return parts.Length >= 3 && long.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0;
    }

    private static OfferRow ToRow(TableEntity e) => new(
        e.PartitionKey, e.RowKey, e.GetString("Status"),
        int.TryParse(e.GetString("Round"), NumberStyles.None, CultureInfo.InvariantCulture, out var round) ? round : 0,
        e.GetString("BedType") ?? "", e.GetString("Pathway") ?? "", e.GetString("RequiredBy") ?? "", e.GetString("Locality"),
        DateTimeOffset.TryParse(e.GetString("ExpiresAt"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var expires) ? expires : null,
        e.GetDateTimeOffset("UpdatedAt")!.Value);
}
