using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Partners;

/// <summary>A registered partner as stored: its code and details, its version (one per change), and whether the coordination centre has been told of it.</summary>
public sealed record StoredPartner(string OdsCode, PartnerDetails Details, long Version, bool Announced);

/// <summary>
/// The partner registry in table <c>partners</c>, one partition per partner (its ODS code): the <c>partner</c> row
/// holds the details in force and every change an <c>event-{version}</c> row (who, when, what). Every change is
/// decided by <see cref="PartnerRules"/> and written under the partner row's ETag, with its audit row in the same
/// entity-group transaction. <c>Announced</c> turns true once the coordination centre has been told of the
/// registration, so a retried PUT after a crash between the two tells it then.
/// </summary>
public sealed class PartnerStore(StorageAccount storage)
{
    private const string PartnerRow = "partner";
    private const int Attempts = 20;

    /// <summary>The stored names of the changes (the audit rows' <c>Type</c>): a contract that stays readable.</summary>
    private static readonly TypeNames<PartnerEvent> Changes = new(
        ("PartnerRegistered", typeof(PartnerEvent.Registered)),
        ("PartnerDetailsChanged", typeof(PartnerEvent.DetailsChanged)));

    private readonly TableClient _table = storage.Table(StorageNames.PartnersTable);

    /// <summary>The partner with this code; null when there is none (or the code is not an ODS code, so it never reaches a table key).</summary>
    public async Task<StoredPartner?> LoadAsync(string odsCode, CancellationToken cancellationToken) =>
        PartnerEndpoints.OdsCode().IsMatch(odsCode)
        && await _table.GetEntityIfExistsAsync<TableEntity>(odsCode, PartnerRow, cancellationToken: cancellationToken) is { HasValue: true } row
            ? Read(row.Value!)
            : null;

    /// <summary>Every registered partner (one query).</summary>
    public async IAsyncEnumerable<StoredPartner> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _table.QueryAsync<TableEntity>($"RowKey eq '{PartnerRow}'", cancellationToken: cancellationToken))
        {
            yield return Read(row);
        }
    }

    /// <summary>
    /// Records <paramref name="details"/> (by <paramref name="by"/>, at <paramref name="at"/>): registers the partner the first time, changes
    /// it after, and changes nothing when they are the details in force. Retries when another writer changed the partner first;
    /// throws <see cref="VersionMismatchException"/> (412) when <paramref name="expectedVersion"/> is not the version now.
    /// </summary>
    public async Task<(StoredPartner Partner, bool Changed)> SetDetailsAsync(
        string odsCode, PartnerDetails details, Actor by, DateTimeOffset at, long? expectedVersion, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(odsCode, PartnerRow, cancellationToken: cancellationToken);
            var stored = existing.HasValue ? Read(existing.Value!) : null;
            var version = stored?.Version ?? 0;
            if (expectedVersion is { } expected && expected != version)
            {
                throw new VersionMismatchException($"partner-{odsCode}", expected, version);
            }

            PartnerState state = stored is null ? new PartnerState.None() : new PartnerState.Registered(odsCode, stored.Details);
            var events = PartnerRules.Decide(new PartnerCommand.SetDetails(odsCode, details), state).ToList();
            if (events.Count == 0)
            {
                return (stored!, false);
            }

            var after = (PartnerState.Registered)events.Aggregate(state, PartnerRules.Evolve);
            var written = new StoredPartner(odsCode, after.Details, version + events.Count, stored?.Announced ?? false);
            var actions = new List<TableTransactionAction>
            {
                existing.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, Row(written), existing.Value!.ETag)
                    : new(TableTransactionActionType.Add, Row(written)),
            };
            var audited = version;
            foreach (var e in events)
            {
                actions.Add(new(TableTransactionActionType.Add, AuditRow.For(odsCode, ++audited, Changes.NameOf(e), Changes.Serialize(e), at, by)));
            }

            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return (written, true);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another writer changed the partner first: decide again on what it wrote.
            }
        }

        throw new ConcurrencyException($"partner-{odsCode}", Attempts);
    }

    /// <summary>Records that the coordination centre has been told of the partner (a merge of one column: it never undoes a change of details).</summary>
    public Task MarkAnnouncedAsync(string odsCode, CancellationToken cancellationToken) =>
        _table.UpdateEntityAsync(new TableEntity(odsCode, PartnerRow) { ["Announced"] = true }, ETag.All, TableUpdateMode.Merge, cancellationToken);

    private static TableEntity Row(StoredPartner p) => new(p.OdsCode, PartnerRow)
    {
        ["Details"] = JsonSerializer.Serialize(p.Details, WorkflowJson.Options),
        ["Version"] = p.Version,
        ["Announced"] = p.Announced,
        ["Name"] = p.Details.Name,
        ["Sector"] = p.Details.Sector.ToString(),
    };

    private static StoredPartner Read(TableEntity row) => new(
        row.PartitionKey,
        JsonSerializer.Deserialize<PartnerDetails>(row.GetString("Details")!, WorkflowJson.Options)!,
        row.GetInt64("Version")!.Value,
        row.GetBoolean("Announced") == true);
}
