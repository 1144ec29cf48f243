using System.Text.Json;
using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Outbox;

/// <summary>One notification as its recipient reads it.</summary>
public sealed record InboxItem(
    string Id, string Type, string Recipient, string Title, string Subject, IReadOnlyDictionary<string, string> Data, string? Link, DateTimeOffset CreatedAt);

/// <summary>
/// The inbox channel, always on: one partition per recipient (organisation or role), rows keyed by
/// inverted time then outbox id, so a page reads newest first and a redelivery overwrites itself.
/// </summary>
public sealed class InboxStore(TableClient table) : INotificationChannel
{
    public string Name => "inbox";

    public async Task DeliverAsync(string outboxId, Notification notification, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        foreach (var recipient in notification.Recipients.Distinct())
        {
            await table.UpsertEntityAsync(
                new TableEntity(recipient.ToString(), RowKey(createdAt, outboxId))
                {
                    ["Id"] = outboxId,
                    ["Type"] = notification.Type,
                    ["Title"] = notification.Title,
                    ["Subject"] = notification.Subject,
                    ["Data"] = JsonSerializer.Serialize(notification.Data, WorkflowJson.Options),
                    ["Link"] = notification.Link,
                    ["CreatedAt"] = createdAt,
                },
                TableUpdateMode.Replace,
                cancellationToken);
        }
    }

    /// <summary>The newest items for any of <paramref name="recipients"/>, created after <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<InboxItem>> ReadAsync(
        IEnumerable<Recipient> recipients, DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        var items = new List<InboxItem>();
        foreach (var recipient in recipients.Distinct())
        {
            var partition = recipient.ToString();
            var filter = since is { } after
                ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {RowKey(after, "")}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
            var taken = 0;
            await foreach (var e in table.QueryAsync<TableEntity>(filter, maxPerPage: limit, cancellationToken: cancellationToken))
            {
                items.Add(new InboxItem(
                    e.GetString("Id"), e.GetString("Type"), partition, e.GetString("Title"), e.GetString("Subject"),
                    JsonSerializer.Deserialize<Dictionary<string, string>>(e.GetString("Data"), WorkflowJson.Options)!,
                    e.GetString("Link"), e.GetDateTimeOffset("CreatedAt")!.Value));
                if (++taken == limit)
                {
                    break;
                }
            }
        }

        return items.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id, StringComparer.Ordinal).Take(limit).ToList();
    }

    private static string RowKey(DateTimeOffset at, string id) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}.{id}";
}
