using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Storage;

/// <summary>
/// Workflow streams in one Azure table, one partition per stream: the head row (<c>head</c>), event
/// rows (<c>e</c> + zero-padded version), outbox rows (<c>o</c> + version.index) and command rows
/// (<c>c</c> + command id). Every append is one entity-group transaction guarded by the head's ETag.
/// </summary>
public sealed class TableEventStore(TableClient table) : IEventStore
{
    private const string HeadKey = "head";

    // A string property holds at most 64 KiB (32K UTF-16 characters); larger states are split.
    private const int ChunkChars = 30_000;
    private const int MaxChunks = 15; // 15 x 60 KB stays under the 1 MiB entity limit

    public async Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(streamId, HeadKey, cancellationToken: cancellationToken);
        return response.HasValue ? ToHead(response.Value!) : null;
    }

    public async Task<string> AppendAsync(Append append, CancellationToken cancellationToken)
    {
        var head = new TableEntity(append.StreamId, HeadKey)
        {
            ["Workflow"] = append.Workflow,
            ["Version"] = append.NewVersion,
            ["StateType"] = append.StateType,
            ["Pending"] = append.PendingSince.HasValue,
            ["PendingSince"] = append.PendingSince,
            ["UpdatedAt"] = append.At,
        };
        WriteChunks(head, "State", append.State);

        var actions = new List<TableTransactionAction>(append.EntityCount)
        {
            append.ExpectedETag is null
                ? new TableTransactionAction(TableTransactionActionType.Add, head)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, head, new ETag(append.ExpectedETag)),
        };
        actions.AddRange(append.Events.Select(e => new TableTransactionAction(TableTransactionActionType.Add, WithChunks(new TableEntity(e.StreamId, EventKey(e.Version))
        {
            ["Type"] = e.Type,
            ["At"] = e.At,
            ["ById"] = e.ById,
            ["ByName"] = e.ByName,
            ["CommandId"] = e.CommandId,
            ["ByRole"] = e.ByRole,
            ["ByOrg"] = e.ByOrg,
        }, "Data", e.Data))));
        actions.AddRange(append.Outbox.Select(o => new TableTransactionAction(TableTransactionActionType.Add, WithChunks(new TableEntity(append.StreamId, OutboxKey(append.StreamId, o.Id))
        {
            ["Id"] = o.Id,
            ["Kind"] = o.Kind,
            ["CreatedAt"] = o.CreatedAt,
            ["Sent"] = false,
        }, "Payload", o.Payload))));
        actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(append.StreamId, CommandKey(append.CommandId))
        {
            ["Version"] = append.NewVersion,
        }));

        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            return response.Value[0].Headers.ETag?.ToString() ?? "";
        }
        catch (TableTransactionFailedException failed) when (failed.FailedTransactionActionIndex == 0 && failed.Status is 409 or 412)
        {
            throw new StreamConflictException(append.StreamId);
        }
        catch (TableTransactionFailedException failed) when (failed.FailedTransactionActionIndex == actions.Count - 1 && failed.Status == 409)
        {
            throw new DuplicateCommandException(append.StreamId, append.CommandId);
        }
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, CancellationToken cancellationToken)
    {
        var events = new List<StoredEvent>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {streamId} and RowKey ge 'e' and RowKey lt 'f'");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            events.Add(new StoredEvent(
                streamId, long.Parse(e.RowKey.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture),
                e.GetString("Type"), ReadChunks(e, "Data"), e.GetDateTimeOffset("At")!.Value,
                e.GetString("ById"), e.GetString("ByName"), e.GetString("CommandId"), e.GetString("ByRole"), e.GetString("ByOrg")));
        }

        return events;
    }

    public async Task<bool> HasAppliedAsync(string streamId, string commandId, CancellationToken cancellationToken) =>
        (await table.GetEntityIfExistsAsync<TableEntity>(streamId, CommandKey(commandId), select: ["RowKey"], cancellationToken: cancellationToken)).HasValue;

    public async IAsyncEnumerable<StoredHead> ReadHeadsAsync(string workflow, string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Stream ids are "<workflow>-<key>": a range of partitions, from the prefix to the prefix with its last character moved on.
        var from = $"{workflow}-{keyPrefix}";
        var to = from[..^1] + (char)(from[^1] + 1);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {from} and PartitionKey lt {to} and RowKey eq {HeadKey}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return ToHead(e);
        }
    }

    public async Task<IReadOnlyList<OutboxEntry>> ReadPendingOutboxAsync(string streamId, CancellationToken cancellationToken)
    {
        var entries = new List<OutboxEntry>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {streamId} and RowKey ge 'o' and RowKey lt 'p' and Sent eq false");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            entries.Add(new OutboxEntry(e.GetString("Id"), e.GetString("Kind"), ReadChunks(e, "Payload"), e.GetDateTimeOffset("CreatedAt")!.Value));
        }

        return entries;
    }

    public async Task MarkSentAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken) =>
        await table.UpdateEntityAsync(
            new TableEntity(streamId, OutboxKey(streamId, entry.Id)) { ["Sent"] = true }, ETag.All, TableUpdateMode.Merge, cancellationToken);

    public async Task<bool> TryClearPendingAsync(string streamId, string headETag, CancellationToken cancellationToken)
    {
        try
        {
            await table.UpdateEntityAsync(
                new TableEntity(streamId, HeadKey) { ["Pending"] = false }, new ETag(headETag), TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            // The stream moved on; the commit that moved it announced its own outbox.
            return false;
        }
    }

    public async IAsyncEnumerable<string> FindPendingStreamsAsync(DateTimeOffset before, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {HeadKey} and Pending eq true and PendingSince lt {before}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            yield return e.PartitionKey;
        }
    }

    private static StoredHead ToHead(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("Workflow"),
        e.GetInt64("Version")!.Value,
        e.GetString("StateType"),
        ReadChunks(e, "State"),
        e.GetBoolean("Pending") == true ? e.GetDateTimeOffset("PendingSince") : null,
        e.GetDateTimeOffset("UpdatedAt")!.Value,
        e.ETag.ToString());

    private static string EventKey(long version) => $"e{version:D10}";

    private static string OutboxKey(string streamId, string outboxId) => "o" + outboxId[(streamId.Length + 1)..];

    /// <summary>Command ids come from callers (idempotency keys); hash them into a safe row key.</summary>
    private static string CommandKey(string commandId) =>
        "c" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(commandId)))[..40];

    /// <summary>
    /// Writes a long string across properties Name, Name1, Name2... (a string property holds at most
    /// 64 KiB); states, event data and outbox payloads of large rounds need it.
    /// </summary>
    private static void WriteChunks(TableEntity entity, string name, string value)
    {
        var chunks = (value.Length + ChunkChars - 1) / ChunkChars;
        if (chunks > MaxChunks)
        {
            throw new InvalidOperationException($"A {name} of {value.Length} characters does not fit in one row.");
        }

        entity[name] = value.Length <= ChunkChars ? value : value[..ChunkChars];
        for (var i = 1; i < chunks; i++)
        {
            entity[$"{name}{i}"] = value.Substring(i * ChunkChars, Math.Min(ChunkChars, value.Length - (i * ChunkChars)));
        }
    }

    private static TableEntity WithChunks(TableEntity entity, string name, string value)
    {
        WriteChunks(entity, name, value);
        return entity;
    }

    private static string ReadChunks(TableEntity entity, string name)
    {
        var first = entity.GetString(name) ?? "";
        if (!entity.ContainsKey($"{name}1"))
        {
            return first;
        }

        var builder = new StringBuilder(first);
        for (var i = 1; entity.GetString($"{name}{i}") is { } chunk; i++)
        {
            builder.Append(chunk);
        }

        return builder.ToString();
    }
}
