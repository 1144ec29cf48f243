using System.Text.Json;
using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>One notification as its recipient reads it.</summary>
public sealed record InboxItem(
    string Id, string Type, string Recipient, string Title, string Subject, IReadOnlyDictionary<string, string> Data, string? Link, DateTimeOffset CreatedAt);

/// <summary>A page of an inbox, newest first; <see cref="Next"/> is the cursor of the next (older) page, null on the last.</summary>
public sealed record InboxPage(IReadOnlyList<InboxItem> Items, string? Next);

/// <summary>
/// The inbox channel, always on: one partition per recipient (organisation or role), rows keyed by
/// inverted time then notification id, so a page reads newest first and a redelivery overwrites itself.
/// </summary>
public sealed class InboxStore(TableClient table) : INotificationChannel
{
    public string Name => "inbox";

    /// <summary>Recipients written at once: a notice to every partner (thousands) is one row each.</summary>
    public const int FanOut = 8;

    public async Task DeliverAsync(string id, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        var data = JsonSerializer.Serialize(notification.Data, WorkflowJson.Options);
        await Parallel.ForEachAsync(
            notification.Recipients.Distinct(),
            new ParallelOptions { MaxDegreeOfParallelism = FanOut, CancellationToken = cancellationToken },
            async (recipient, ct) => await table.UpsertEntityAsync(
                new TableEntity(recipient.ToString(), RowKey(createdAt, id))
                {
                    ["Id"] = id,
                    ["Type"] = notification.Type,
                    ["Title"] = notification.Title,
                    ["Subject"] = notification.Subject,
                    ["Data"] = data,
                    ["Link"] = notification.Link,
                    ["CreatedAt"] = createdAt,
                },
                TableUpdateMode.Replace,
                ct));
    }

    /// <summary>
    /// A page of the items for any of <paramref name="recipients"/>, newest first: those created after
    /// <paramref name="since"/> and older than the cursor <paramref name="before"/> (a page's <see cref="InboxPage.Next"/>).
    /// An item addressed to several of the recipients appears once.
    /// </summary>
    public async Task<InboxPage> ReadAsync(
        IEnumerable<Recipient> recipients, DateTimeOffset? since, string? before, int limit, CancellationToken cancellationToken)
    {
        // Keyed by row key (time and notification id): one delivery to several of the caller's inboxes has the same key in each.
        var items = new Dictionary<string, InboxItem>(StringComparer.Ordinal);
        foreach (var recipient in recipients.Distinct())
        {
            var partition = recipient.ToString();
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
            if (since is { } after)
            {
                filter += " and " + TableClient.CreateQueryFilter($"RowKey lt {RowKey(after, "")}");
            }

            if (before is not null)
            {
                filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {before}");
            }

            // Rows come in key order (newest first): one more than a page tells whether there is another.
            var taken = 0;
            await foreach (var e in table.QueryAsync<TableEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
            {
                items.TryAdd(e.RowKey, new InboxItem(
                    e.GetString("Id"), e.GetString("Type"), partition, e.GetString("Title"), e.GetString("Subject"),
                    JsonSerializer.Deserialize<Dictionary<string, string>>(e.GetString("Data"), WorkflowJson.Options)!,
                    e.GetString("Link"), e.GetDateTimeOffset("CreatedAt")!.Value));
                if (++taken > limit)
                {
                    break;
                }
            }
        }

        var newestFirst = items.OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        var page = newestFirst.Take(limit).ToList();
        return new InboxPage(page.Select(i => i.Value).ToList(), newestFirst.Count > limit ? page[^1].Key : null);
    }

    /// <summary>Whether <paramref name="cursor"/> has the shape of a page's <see cref="InboxPage.Next"/>.</summary>
    public static bool IsCursor(string cursor) => cursor.Length is > 20 and <= 300 && cursor[19] == '.' && cursor[..19].All(char.IsAsciiDigit);

    private static string RowKey(DateTimeOffset at, string id) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}.{id}";
}
