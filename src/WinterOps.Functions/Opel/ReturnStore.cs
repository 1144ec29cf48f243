using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>
/// The daily returns in table <c>returns</c>, one partition per date (yyyy-MM-dd), so the round reads a day's
/// returns in one query and returns from many partners never contend on one row. Each partner's return has a row
/// <c>{odsCode}</c> with the revision in force (its level, for the round) and a row <c>{odsCode}.r{revision}</c> per
/// revision, written in one entity-group transaction under the return row's ETag: a revision is kept once, whoever
/// writes at the same time.
/// </summary>
public sealed class ReturnStore(TableClient table)
{
    private const string Kind = "return";
    private const int Attempts = 20;

    /// <summary>A partner's return for a date, with every revision; null when it has sent none.</summary>
    public async Task<ReturnState?> LoadAsync(DateOnly date, string odsCode, CancellationToken cancellationToken)
    {
        // The return row "{odsCode}" and its revisions "{odsCode}.r0001"...: '/' follows '.', and comes before every letter and digit.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(date)} and RowKey ge {odsCode} and RowKey lt {odsCode + "/"}");
        Sector? sector = null;
        var revisions = new List<ReturnRevision>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == odsCode)
            {
                sector = Enum.Parse<Sector>(row.GetString("Sector")!);
            }
            else
            {
                revisions.Add(Revision(row));
            }
        }

        return sector is { } s ? new ReturnState(date, odsCode, s, revisions) : null;
    }

    /// <summary>Each partner's effective level in its return for the day (one query over the day's partition).</summary>
    public async Task<Dictionary<string, int>> ReadLevelsAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(date)} and Kind eq {Kind}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey", "EffectiveLevel"], cancellationToken: cancellationToken))
        {
            levels[row.RowKey] = row.GetInt32("EffectiveLevel")!.Value;
        }

        return levels;
    }

    /// <summary>
    /// Keeps <paramref name="submission"/> as the next revision unless it repeats the one in force; answers the revision in force and
    /// whether this made it. Throws <see cref="VersionMismatchException"/> (412) when <paramref name="expectedRevision"/> is not the revision now.
    /// </summary>
    public async Task<(ReturnRevision Latest, bool Changed)> SubmitAsync(ReturnSubmission submission, long? expectedRevision, CancellationToken cancellationToken)
    {
        var partition = Partition(submission.Date);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(partition, submission.OdsCode, cancellationToken: cancellationToken);
            var latest = existing.HasValue ? Revision(existing.Value!) : null;
            if (expectedRevision is { } expected && expected != (latest?.Revision ?? 0))
            {
                throw new VersionMismatchException($"return-{partition}-{submission.OdsCode}", expected, latest?.Revision ?? 0);
            }

            if (ReturnRules.Revise(latest, submission) is not { } revision)
            {
                return (latest!, false);
            }

            var json = JsonSerializer.Serialize(revision, WorkflowJson.Options);
            var head = new TableEntity(partition, submission.OdsCode)
            {
                ["Kind"] = Kind, ["Sector"] = submission.Sector.ToString(), ["EffectiveLevel"] = revision.EffectiveLevel, ["Revision"] = json,
            };
            var row = new TableEntity(partition, $"{submission.OdsCode}.r{revision.Revision.ToString("D4", CultureInfo.InvariantCulture)}") { ["Revision"] = json };
            TableTransactionAction[] actions =
            [
                existing.HasValue ? new(TableTransactionActionType.UpdateReplace, head, existing.Value!.ETag) : new(TableTransactionActionType.Add, head),
                new(TableTransactionActionType.Add, row),
            ];
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                return (revision, true);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another revision was written first: decide again on it.
            }
        }

        throw new ConcurrencyException($"return-{partition}-{submission.OdsCode}", Attempts);
    }

    private static string Partition(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static ReturnRevision Revision(TableEntity row) => JsonSerializer.Deserialize<ReturnRevision>(row.GetString("Revision")!, WorkflowJson.Options)!;
}
