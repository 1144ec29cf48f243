using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.CareHomes;

/// <summary>A registered home as stored: its state, its version (one per change) and the row's ETag.</summary>
public sealed record StoredHome(CareHomeState.Registered Home, long Version);

/// <summary>
/// The care-home registry in table <c>carehomes</c>, one partition per home (its CQC location id): the <c>home</c>
/// row holds the home's details, vacancies and held beds, each bed held for a placement also has a
/// <c>reservation-{placementId}</c> row, and every change an <c>event-{version}</c> row (who, when, what). Every change is decided by <see cref="CareHomeRules"/> and written under the
/// home row's ETag; a reservation inserts its row in the same entity-group transaction, so the last bed is held
/// once, and a re-run finds its own reservation instead of holding a second bed.
/// </summary>
public sealed class CareHomeStore(StorageAccount storage)
{
    private const string HomeRow = "home";
    private const int Attempts = 20;

    /// <summary>The stored names of the changes (the audit rows' <c>Type</c>): a contract that stays readable.</summary>
    private static readonly TypeNames<CareHomeEvent> Changes = new(
        ("CareHomeRegistered", typeof(CareHomeEvent.Registered)),
        ("CareHomeDetailsChanged", typeof(CareHomeEvent.DetailsChanged)),
        ("VacanciesReported", typeof(CareHomeEvent.VacanciesReported)),
        ("BedReserved", typeof(CareHomeEvent.BedReserved)),
        ("ReservationReleased", typeof(CareHomeEvent.ReservationReleased)),
        ("PatientAdmitted", typeof(CareHomeEvent.PatientAdmitted)));

    private readonly TableClient _table = storage.Table(StorageNames.CareHomesTable);

    public async Task<StoredHome?> LoadAsync(string cqcLocationId, CancellationToken cancellationToken) =>
        CareHomeEndpoints.CqcLocationId().IsMatch(cqcLocationId)
        && await _table.GetEntityIfExistsAsync<TableEntity>(cqcLocationId, HomeRow, cancellationToken: cancellationToken) is { HasValue: true } row
            ? Read(row.Value!)
            : null;

    public async IAsyncEnumerable<StoredHome> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _table.QueryAsync<TableEntity>($"RowKey eq '{HomeRow}'", cancellationToken: cancellationToken))
        {
            yield return Read(row);
        }
    }

    /// <summary>
    /// Decides <paramref name="command"/> (by <paramref name="by"/>, at <paramref name="at"/>) on the home as stored now and writes what it changes, with its audit rows, retrying when another
    /// writer changed the home first. Throws <see cref="CommandRejectedException"/> (409) when the rules refuse it,
    /// <see cref="VersionMismatchException"/> (412) when <paramref name="expectedVersion"/> is not the version now.
    /// </summary>
    public async Task<(StoredHome Home, bool Changed)> ApplyAsync(
        string cqcLocationId, CareHomeCommand command, Actor by, DateTimeOffset at, long? expectedVersion, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(cqcLocationId, HomeRow, cancellationToken: cancellationToken);
            CareHomeState state = existing.HasValue ? Read(existing.Value!).Home : new CareHomeState.None();
            var version = existing.HasValue ? existing.Value!.GetInt64("Version")!.Value : 0;
            if (expectedVersion is { } expected && expected != version)
            {
                throw new VersionMismatchException($"carehome-{cqcLocationId}", expected, version);
            }

            var events = CareHomeRules.Decide(command, state).ToList();
            if (events.Count == 0)
            {
                return (new StoredHome((CareHomeState.Registered)state, version), false);
            }

            var after = (CareHomeState.Registered)events.Aggregate(state, CareHomeRules.Evolve);
            var row = new TableEntity(cqcLocationId, HomeRow)
            {
                ["State"] = JsonSerializer.Serialize(after, WorkflowJson.Options),
                ["Version"] = version + events.Count,
                ["Name"] = after.Details.Name,
                ["Locality"] = after.Details.Locality,
            };
            var actions = new List<TableTransactionAction>
            {
                existing.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, row, existing.Value!.ETag)
                    : new(TableTransactionActionType.Add, row),
            };
            var audited = version;
            foreach (var e in events)
            {
                audited++;
                actions.Add(new(TableTransactionActionType.Add, AuditRow.For(cqcLocationId, audited, Changes.NameOf(e), Changes.Serialize(e), at, by)));
                switch (e)
                {
                    case CareHomeEvent.BedReserved r:
                        actions.Add(new(TableTransactionActionType.Add, new TableEntity(cqcLocationId, ReservationRow(r.PlacementId))
                        {
                            ["BedType"] = r.BedType.ToString(), ["At"] = r.At,
                        }));
                        break;
                    case CareHomeEvent.ReservationReleased r:
                        actions.Add(new(TableTransactionActionType.Delete, new TableEntity(cqcLocationId, ReservationRow(r.PlacementId)), ETag.All));
                        break;
                    case CareHomeEvent.PatientAdmitted r:
                        actions.Add(new(TableTransactionActionType.Delete, new TableEntity(cqcLocationId, ReservationRow(r.PlacementId)), ETag.All));
                        break;
                }
            }

            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return (new StoredHome(after, version + events.Count), true);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412 or 404)
            {
                // Another writer changed the home (or holds the reservation row) first: decide again on what it wrote.
            }
        }

        throw new ConcurrencyException($"carehome-{cqcLocationId}", Attempts);
    }

    private static string ReservationRow(string placementId) => $"reservation-{placementId}";

    private static StoredHome Read(TableEntity row) =>
        new(JsonSerializer.Deserialize<CareHomeState.Registered>(row.GetString("State")!, WorkflowJson.Options)!, row.GetInt64("Version")!.Value);
}
