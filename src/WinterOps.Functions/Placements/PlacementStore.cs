using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Placements;

/// <summary>A placement as stored: its state and version (one per audited event).</summary>
public sealed record StoredPlacement(PlacementState State, long Version, PendingRequest? Request);

/// <summary>What the discharge team asked for, stored by the HTTP function before the orchestration ranks homes.</summary>
public sealed record PendingRequest(PlacementRequest Details, Actor By, DateTimeOffset At);

/// <summary>A person's answer to the placement (accept, decline, cancel, admitted), stored before the orchestration is told of it.</summary>
public sealed record PlacementAction(PlacementCommand Command, Actor By, long? ExpectedVersion);

/// <summary>One audited event, as <c>GET .../history</c> shows it.</summary>
public sealed record AuditEntry(long Version, string Type, string Data, DateTimeOffset At, string ById, string ByName, string? ByRole, string? ByOrg);

/// <summary>
/// The placements in table <c>placements</c>, one partition per placement, written only by the orchestration's
/// activities (and the request row by the HTTP function that starts it):
/// <list type="bullet">
/// <item><c>placement</c>: the state (with the patient's details, which never enter Durable state), version, status;</item>
/// <item><c>event-{version}</c>: the audit trail, contiguous versions: who, when, what, why;</item>
/// <item><c>action-{responseId}</c>: a person's answer, written before the orchestration is told (the event carries the id only);</item>
/// <item><c>step-{stepId}</c>: how a step was decided, written with its events: a re-run activity finds it and changes nothing,
/// and the HTTP function waiting for a response reads its decision here.</item>
/// </list>
/// </summary>
public sealed class PlacementStore(StorageAccount storage)
{
    private const string PlacementRow = "placement";
    private const int Attempts = 10;

    /// <summary>The stored names of the answers people give.</summary>
    private static readonly TypeNames<PlacementCommand> Answers = new(
        ("AcceptOffer", typeof(PlacementCommand.Accept)),
        ("DeclineOffer", typeof(PlacementCommand.Decline)),
        ("CancelPlacement", typeof(PlacementCommand.Cancel)),
        ("RecordAdmission", typeof(PlacementCommand.RecordAdmission)));

    private readonly TableClient _table = storage.Table(StorageNames.PlacementsTable);

    public async Task<StoredPlacement?> LoadAsync(string placementId, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(placementId, PlacementRow, cancellationToken: cancellationToken) is { HasValue: true } row
            ? Read(row.Value!)
            : null;

    /// <summary>Every placement (a scan of the placement rows), optionally of one status and referring organisation.</summary>
    public async IAsyncEnumerable<StoredPlacement> LoadAllAsync(
        PlacementPhase? status, string? referringOrg, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = $"RowKey eq '{PlacementRow}'";
        if (status is { } phase)
        {
            // A request not yet matched is stored in phase None.
            filter += TableClient.CreateQueryFilter($" and Status eq {(phase == PlacementPhase.Requested ? PlacementPhase.None : phase).ToString()}");
        }

        if (referringOrg is not null)
        {
            filter += TableClient.CreateQueryFilter($" and ReferringOrg eq {referringOrg.ToUpperInvariant()}");
        }

        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return Read(row);
        }
    }

    /// <summary>Stores a new request (phase none, version 0) unless a placement with this id exists: a retry finds the first.</summary>
    public async Task<bool> CreateAsync(string placementId, PendingRequest request, CancellationToken cancellationToken)
    {
        var row = Row(placementId, PlacementState.Initial with { PlacementId = placementId }, 0, request);
        row["ReferringOrg"] = request.Details.ReferringOrg;
        try
        {
            await _table.AddEntityAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task SaveActionAsync(string placementId, string responseId, PlacementAction action, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(
            new TableEntity(placementId, $"action-{responseId}")
            {
                ["CommandType"] = Answers.NameOf(action.Command),
                ["Command"] = Answers.Serialize(action.Command),
                ["By"] = JsonSerializer.Serialize(action.By, WorkflowJson.Options),
                ["ExpectedVersion"] = action.ExpectedVersion,
            },
            TableUpdateMode.Replace, cancellationToken);

    public async Task<PlacementAction?> LoadActionAsync(string placementId, string responseId, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(placementId, $"action-{responseId}", cancellationToken: cancellationToken) is { HasValue: true } found
        && found.Value is { } row
            ? new PlacementAction(
                Answers.Deserialize(row.GetString("CommandType")!, row.GetString("Command")!),
                JsonSerializer.Deserialize<Actor>(row.GetString("By")!, WorkflowJson.Options)!,
                row.GetInt64("ExpectedVersion"))
            : null;

    public async Task<StepOutcome?> LoadOutcomeAsync(string placementId, string stepId, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(placementId, StepRow.Key(stepId), cancellationToken: cancellationToken) is { HasValue: true } row
            ? StepRow.Read(row.Value!)
            : null;

    public async Task<IReadOnlyList<AuditEntry>> ReadHistoryAsync(string placementId, CancellationToken cancellationToken)
    {
        var entries = new List<AuditEntry>();
        await foreach (var e in _table.QueryAsync<TableEntity>(AuditRow.Filter(placementId), cancellationToken: cancellationToken))
        {
            entries.Add(new AuditEntry(
                e.GetInt64("Version")!.Value, e.GetString("Type"), e.GetString("Data"), e.GetDateTimeOffset("At")!.Value,
                e.GetString("ById"), e.GetString("ByName"), e.GetString("ByRole"), e.GetString("ByOrg")));
        }

        return entries;
    }

    /// <summary>
    /// Runs one step (by <paramref name="by"/>, at <paramref name="at"/>) exactly once: unless <paramref name="stepId"/> was decided before (then its outcome is returned
    /// and nothing changes), <paramref name="decide"/> gives the events for the placement as stored now, and the new
    /// state, its audit entries and the step's outcome are written in one transaction under the placement row's ETag.
    /// A refusal (<see cref="CommandRejectedException"/>, <see cref="VersionMismatchException"/>) is recorded as the
    /// step's outcome, with no events.
    /// </summary>
    public async Task<(StoredPlacement Placement, StepOutcome Outcome, IReadOnlyList<PlacementEvent> Events)> ApplyAsync(
        string placementId, string stepId, Actor by, DateTimeOffset at, Func<StoredPlacement, IEnumerable<PlacementEvent>> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            // The step row first: a step decided by a copy of this activity that ran at the same time returns the row it wrote, or a later one.
            var done = await LoadOutcomeAsync(placementId, stepId, cancellationToken);
            var row = (await _table.GetEntityAsync<TableEntity>(placementId, PlacementRow, cancellationToken: cancellationToken)).Value;
            var stored = Read(row);
            if (done is not null)
            {
                return (stored, done, []);
            }

            var (events, outcome) = StepRow.Decide(() => decide(stored), stored.Version, () => Names<PlacementPhase>.Of(stored.State.Phase));
            var state = events.Aggregate(stored.State, PlacementWorkflow.Evolve);
            TableTransactionAction[] actions =
            [
                new(TableTransactionActionType.UpdateReplace, Row(placementId, state, outcome.Version, stored.Request), row.ETag),
                .. StepRow.Actions(placementId, stepId, outcome, stored.Version, events, PlacementWorkflow.Events, at, by),
            ];
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return (new StoredPlacement(state, outcome.Version, stored.Request), outcome, events);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // A re-run of this step (or another step) wrote first: read again; a decided step returns its outcome.
            }
        }

        throw new ConcurrencyException($"placement-{placementId}", Attempts);
    }

    /// <summary>The placement row; it keeps the request as asked for, so a re-run of the first step can still read it.</summary>
    private static TableEntity Row(string placementId, PlacementState state, long version, PendingRequest? request) => new(placementId, PlacementRow)
    {
        ["Request"] = request is null ? null : JsonSerializer.Serialize(request, WorkflowJson.Options),
        ["State"] = JsonSerializer.Serialize(state, WorkflowJson.Options),
        ["Version"] = version,
        ["Status"] = state.Phase.ToString(),
        ["ReferringOrg"] = state.Details?.ReferringOrg,
        ["RequestedAt"] = state.RequestedAt,
    };

    /// <summary>The stored placement; a request not yet matched (phase None) carries its details, so it can be shown.</summary>
    private static StoredPlacement Read(TableEntity row)
    {
        var state = JsonSerializer.Deserialize<PlacementState>(row.GetString("State")!, WorkflowJson.Options)!;
        var request = row.GetString("Request") is { } json ? JsonSerializer.Deserialize<PendingRequest>(json, WorkflowJson.Options) : null;
        if (state.Phase == PlacementPhase.None && request is not null)
        {
            state = state with { Details = request.Details, RequestedAt = request.At };
        }

        return new StoredPlacement(state, row.GetInt64("Version")!.Value, request);
    }

}
