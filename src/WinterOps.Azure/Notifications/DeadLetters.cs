using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Notifications;

/// <summary>One notification for one channel, and its attempt: the channel activity's input, and what a dead letter keeps to re-drive.</summary>
public sealed record DeliveryRequest(string OutboxId, string WorkflowId, string Channel, Notification Notification, DateTimeOffset CreatedAt, int Attempt);

/// <summary>A delivery that gave up: kept for coordinators to read and re-drive.</summary>
public sealed record DeadLetter(
    string Id, string OutboxId, string WorkflowId, string Channel, string Type, int Attempts, int? Status, string Reason, DateTimeOffset At, DeliveryRequest Request);

/// <summary>
/// The dead letters (table <c>deadletters</c>, one partition): newest first, because the row key starts with the
/// inverted time, then the channel and the notification id. Written with the time the delivery gave up, so writing
/// the same dead letter again (an activity re-run) overwrites itself.
/// </summary>
public sealed class DeadLetters(StorageAccount storage)
{
    private const string Partition = "deadletter";

    private readonly TableClient _table = storage.Table(StorageNames.DeadLettersTable);

    public static string IdOf(DateTimeOffset at, string channel, string outboxId) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}-{channel}-{outboxId}";

    public async Task<DeadLetter> AddAsync(DeliveryRequest request, int? status, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var letter = new DeadLetter(
            IdOf(at, request.Channel, request.OutboxId), request.OutboxId, request.WorkflowId, request.Channel, request.Notification.Type, request.Attempt,
            status, reason.Length > 1000 ? reason[..1000] : reason, at, request);
        await _table.UpsertEntityAsync(
            new TableEntity(Partition, letter.Id)
            {
                ["OutboxId"] = letter.OutboxId,
                ["WorkflowId"] = letter.WorkflowId,
                ["Channel"] = letter.Channel,
                ["Type"] = letter.Type,
                ["Attempts"] = letter.Attempts,
                ["Status"] = letter.Status,
                ["Reason"] = letter.Reason,
                ["At"] = at,
                ["Request"] = JsonSerializer.Serialize(request, WorkflowJson.Options),
            },
            TableUpdateMode.Replace,
            cancellationToken);
        return letter;
    }

    /// <summary>Dead letters, newest first.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var letters = new List<DeadLetter>();
        await foreach (var e in _table.QueryAsync<TableEntity>(e => e.PartitionKey == Partition, maxPerPage: limit, cancellationToken: cancellationToken))
        {
            letters.Add(ToDeadLetter(e));
            if (letters.Count == limit)
            {
                break;
            }
        }

        return letters;
    }

    public async Task<DeadLetter?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return found.HasValue ? ToDeadLetter(found.Value!) : null;
    }

    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(Partition, id, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // removed by an earlier re-drive
        }
    }

    private static DeadLetter ToDeadLetter(TableEntity e) => new(
        e.RowKey, e.GetString("OutboxId"), e.GetString("WorkflowId"), e.GetString("Channel"), e.GetString("Type"), e.GetInt32("Attempts") ?? 0,
        e.GetInt32("Status"), e.GetString("Reason"), e.GetDateTimeOffset("At")!.Value,
        JsonSerializer.Deserialize<DeliveryRequest>(e.GetString("Request"), WorkflowJson.Options)!);
}
