using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>A day's round as stored: its phase and schedule, and the latest assessment's system figures (partners are rows of their own).</summary>
public sealed record StoredRound(
    DateOnly Date, RoundPhase Phase, int Expected, RoundSchedule? Schedule, bool Reminded, int Assessments, int? SystemLevel, decimal? SystemScore,
    IReadOnlyList<PillarLevel> Pillars, DateTimeOffset? AssessedAt, long Version);

/// <summary>
/// The daily rounds in table <c>rounds</c>, one partition per London date, written by the round's activities (and the
/// start claim by the daily tick):
/// <list type="bullet">
/// <item><c>round</c>: phase, schedule, expected count, the latest assessment's system level, score and pillars, the start claim;</item>
/// <item><c>partner-{odsCode}</c>: each partner's effective level in the latest assessment, and whether it was carried forward;</item>
/// <item><c>notice-{kind}-{batch}</c>: the partners a notice goes to, a batch per row, fixed when first planned so a re-run sends the same;</item>
/// <item><c>event-{version}</c>: the audit trail (opened, reminded, assessed).</item>
/// </list>
/// </summary>
public sealed class RoundStore(StorageAccount storage)
{
    /// <summary>Rows per table transaction (the service's limit) and partners per notice batch.</summary>
    public const int Batch = 100;

    /// <summary>How long a start claimed but not begun is left to its claimant before another caller may start it.</summary>
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(1);

    private const string RoundRow = "round";
    private const string PartnerPrefix = "partner-";
    private const int Attempts = 20;

    private readonly TableClient _table = storage.Table(StorageNames.RoundsTable);

    public async Task<StoredRound?> LoadAsync(DateOnly date, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(RoundWorkflow.Key(date), RoundRow, cancellationToken: cancellationToken) is { HasValue: true } row
            ? Read(row.Value!)
            : null;

    /// <summary>
    /// Whether this caller starts the day's orchestration: the first to add the round's row, or, when a claim was
    /// made over <see cref="ClaimTimeout"/> ago, the round has not opened and <paramref name="stalled"/> confirms
    /// there is no instance (its claimant stopped before starting it), the first to renew the claim.
    /// </summary>
    public async Task<bool> ClaimStartAsync(DateOnly date, DateTimeOffset now, Func<Task<bool>> stalled, CancellationToken cancellationToken)
    {
        var key = RoundWorkflow.Key(date);
        try
        {
            await _table.AddEntityAsync(
                new TableEntity(key, RoundRow) { ["Phase"] = nameof(RoundPhase.NotOpen), ["Version"] = 0L, ["ClaimedAt"] = now }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var row = (await _table.GetEntityAsync<TableEntity>(key, RoundRow, cancellationToken: cancellationToken)).Value;
            if (Read(row).Phase != RoundPhase.NotOpen || row.GetDateTimeOffset("ClaimedAt") > now - ClaimTimeout || !await stalled())
            {
                return false;
            }

            row["ClaimedAt"] = now;
            try
            {
                await _table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException conflict) when (conflict.Status == 412)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Changes the round row and appends one audit row, in one transaction under the row's ETag; <paramref name="change"/>
    /// returns null when there is nothing to change (a re-run).
    /// </summary>
    public async Task<StoredRound> RecordAsync(
        DateOnly date, Actor by, DateTimeOffset at, Func<StoredRound, (StoredRound After, string Type, object Data)?> change, CancellationToken cancellationToken)
    {
        var key = RoundWorkflow.Key(date);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var found = await _table.GetEntityIfExistsAsync<TableEntity>(key, RoundRow, cancellationToken: cancellationToken);
            var row = found.HasValue ? found.Value : null;
            var stored = row is null ? Empty(date) : Read(row);
            if (change(stored) is not { } changed)
            {
                return stored;
            }

            var after = changed.After with { Version = stored.Version + 1 };
            var updated = Row(after);
            if (row?.GetDateTimeOffset("ClaimedAt") is { } claimed)
            {
                updated["ClaimedAt"] = claimed;
            }

            TableTransactionAction[] actions =
            [
                row is null ? new(TableTransactionActionType.Add, updated) : new(TableTransactionActionType.UpdateReplace, updated, row.ETag),
                new(TableTransactionActionType.Add, AuditRow.For(key, after.Version, changed.Type, JsonSerializer.Serialize(changed.Data, WorkflowJson.Options), at, by)),
            ];
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return after;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Changed meanwhile (a re-run, the start claim): read again.
            }
        }

        throw new ConcurrencyException($"round-{key}", Attempts);
    }

    /// <summary>
    /// Writes each partner's level in an assessment, a transaction per <see cref="Batch"/> rows, several at a time; a
    /// re-assessment writes only the partners whose level or flag changed.
    /// </summary>
    public async Task WritePartnersAsync(DateOnly date, IReadOnlyList<PartnerAssessment> partners, int assessment, CancellationToken cancellationToken)
    {
        var key = RoundWorkflow.Key(date);
        if (assessment > 1)
        {
            var stored = (await ReadPartnersAsync(date, cancellationToken)).ToHashSet();
            partners = partners.Where(p => !stored.Contains(p)).ToList();
        }

        await Parallel.ForEachAsync(
            partners.Chunk(Batch), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (chunk, ct) =>
                await _table.SubmitTransactionAsync(
                    chunk.Select(p => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(key, PartnerPrefix + p.OdsCode)
                    {
                        ["Sector"] = p.Sector.ToString(), ["Level"] = p.EffectiveLevel, ["Missing"] = p.Missing,
                    })), ct));
    }

    /// <summary>Each partner's level in the latest assessment, by ODS code.</summary>
    public async Task<IReadOnlyList<PartnerAssessment>> ReadPartnersAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var partners = new List<PartnerAssessment>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {RoundWorkflow.Key(date)} and RowKey ge {PartnerPrefix} and RowKey lt {"partner."}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            partners.Add(new PartnerAssessment(
                row.RowKey[PartnerPrefix.Length..], Enum.Parse<Sector>(row.GetString("Sector")!), row.GetInt32("Level"), row.GetBoolean("Missing") == true));
        }

        return partners;
    }

    /// <summary>
    /// The batches of a notice: planned once (<paramref name="recipients"/> is asked only then, and the batches written
    /// before the count that marks them planned), so a re-run sends the same batches.
    /// </summary>
    public async Task<int> PlanNoticeAsync(DateOnly date, RoundNotice kind, Func<Task<IReadOnlyList<string>>> recipients, CancellationToken cancellationToken)
    {
        var key = RoundWorkflow.Key(date);
        if (await _table.GetEntityIfExistsAsync<TableEntity>(key, NoticeRow(kind, null), cancellationToken: cancellationToken) is { HasValue: true } planned)
        {
            return planned.Value!.GetInt32("Batches")!.Value;
        }

        var batches = (await recipients()).Order(StringComparer.Ordinal).Chunk(Batch).ToList();
        foreach (var rows in batches.Select((codes, i) => new TableEntity(key, NoticeRow(kind, i)) { ["Codes"] = JsonSerializer.Serialize(codes) }).Chunk(Batch))
        {
            await _table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), cancellationToken);
        }

        await _table.UpsertEntityAsync(new TableEntity(key, NoticeRow(kind, null)) { ["Batches"] = batches.Count }, TableUpdateMode.Replace, cancellationToken);
        return batches.Count;
    }

    public async Task<IReadOnlyList<string>> ReadNoticeBatchAsync(DateOnly date, RoundNotice kind, int batch, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize<List<string>>(
            (await _table.GetEntityAsync<TableEntity>(RoundWorkflow.Key(date), NoticeRow(kind, batch), cancellationToken: cancellationToken)).Value.GetString("Codes")!)!;

    /// <summary>The round's audit trail: each entry's type, oldest first.</summary>
    public async Task<IReadOnlyList<string>> ReadHistoryTypesAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var types = new List<string>();
        await foreach (var row in _table.QueryAsync<TableEntity>(AuditRow.Filter(RoundWorkflow.Key(date)), cancellationToken: cancellationToken))
        {
            types.Add(row.GetString("Type")!);
        }

        return types;
    }

    private static string NoticeRow(RoundNotice kind, int? batch) =>
        batch is { } n ? $"notice-{kind}-{n.ToString("D5", CultureInfo.InvariantCulture)}" : $"notice-{kind}";

    private static StoredRound Empty(DateOnly date) => new(date, RoundPhase.NotOpen, 0, null, false, 0, null, null, [], null, 0);

    private static TableEntity Row(StoredRound r) => new(RoundWorkflow.Key(r.Date), RoundRow)
    {
        ["Phase"] = r.Phase.ToString(),
        ["Expected"] = r.Expected,
        ["Schedule"] = r.Schedule is null ? null : JsonSerializer.Serialize(r.Schedule, WorkflowJson.Options),
        ["Reminded"] = r.Reminded,
        ["Assessments"] = r.Assessments,
        ["SystemLevel"] = r.SystemLevel,
        ["SystemScore"] = r.SystemScore?.ToString(CultureInfo.InvariantCulture),
        ["Pillars"] = JsonSerializer.Serialize(r.Pillars, WorkflowJson.Options),
        ["AssessedAt"] = r.AssessedAt,
        ["Version"] = r.Version,
    };

    private static StoredRound Read(TableEntity row) => new(
        DateOnly.ParseExact(row.PartitionKey, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        Enum.Parse<RoundPhase>(row.GetString("Phase")!),
        row.GetInt32("Expected") ?? 0,
        row.GetString("Schedule") is { } schedule ? JsonSerializer.Deserialize<RoundSchedule>(schedule, WorkflowJson.Options) : null,
        row.GetBoolean("Reminded") == true,
        row.GetInt32("Assessments") ?? 0,
        row.GetInt32("SystemLevel"),
        row.GetString("SystemScore") is { } score ? decimal.Parse(score, CultureInfo.InvariantCulture) : null,
        row.GetString("Pillars") is { } pillars ? JsonSerializer.Deserialize<List<PillarLevel>>(pillars, WorkflowJson.Options)! : [],
        row.GetDateTimeOffset("AssessedAt"),
        row.GetInt64("Version") ?? 0);
}
