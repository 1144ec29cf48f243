using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Opel;

/// <summary>
/// An escalation as stored: its state and version (one per audited event); <see cref="Starter"/> is the step that
/// first raised it, whose caller starts its orchestration, and <see cref="Started"/> whether the orchestration has begun.
/// </summary>
public sealed record StoredEscalation(string Id, EscalationState State, long Version, string? Starter, bool Started);

/// <summary>A person's acknowledgement or resolution, stored before the orchestration is told of it.</summary>
public sealed record EscalationAction(EscalationCommand Command, Actor By, long? ExpectedVersion);

/// <summary>
/// The escalations in table <c>escalations</c>, one partition per escalation id (condition and day):
/// <list type="bullet">
/// <item><c>escalation</c>: the state (with the on-call ladder's names, which never enter Durable state), version, status;</item>
/// <item><c>event-{version}</c>: the audit trail: who, when, what;</item>
/// <item><c>action-{actionId}</c>: a person's acknowledgement or resolution, written before the orchestration is told;</item>
/// <item><c>step-{stepId}</c>: how a step was decided, written with its events, so a step is decided once.</item>
/// </list>
/// </summary>
public sealed class EscalationStore(StorageAccount storage)
{
    private const string EscalationRow = "escalation";
    private const int Attempts = 20;

    private readonly TableClient _table = storage.Table(StorageNames.EscalationsTable);

    public async Task<StoredEscalation?> LoadAsync(string id, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(id, EscalationRow, cancellationToken: cancellationToken) is { HasValue: true } row
            ? Read(row.Value!)
            : null;

    /// <summary>Every escalation raised (a scan of the escalation rows); of one day when <paramref name="date"/> is given.</summary>
    public async IAsyncEnumerable<StoredEscalation> LoadAllAsync(DateOnly? date, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = $"RowKey eq '{EscalationRow}'";
        if (date is { } day)
        {
            filter += TableClient.CreateQueryFilter($" and Date eq {RoundWorkflow.Key(day)}");
        }

        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (Read(row) is { State.Raised: not null } raised)
            {
                yield return raised;
            }
        }
    }

    public async Task SaveActionAsync(string id, string actionId, EscalationAction action, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(
            new TableEntity(id, $"action-{actionId}")
            {
                ["CommandType"] = EscalationWorkflow.Commands.NameOf(action.Command),
                ["Command"] = EscalationWorkflow.Commands.Serialize(action.Command),
                ["By"] = JsonSerializer.Serialize(action.By, WorkflowJson.Options),
                ["ExpectedVersion"] = action.ExpectedVersion,
            },
            TableUpdateMode.Replace, cancellationToken);

    public async Task<EscalationAction?> LoadActionAsync(string id, string actionId, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(id, $"action-{actionId}", cancellationToken: cancellationToken) is { HasValue: true } found
        && found.Value is { } row
            ? new EscalationAction(
                EscalationWorkflow.Commands.Deserialize(row.GetString("CommandType")!, row.GetString("Command")!),
                JsonSerializer.Deserialize<Actor>(row.GetString("By")!, WorkflowJson.Options)!,
                row.GetInt64("ExpectedVersion"))
            : null;

    public async Task<StepOutcome?> LoadOutcomeAsync(string id, string stepId, CancellationToken cancellationToken) =>
        await _table.GetEntityIfExistsAsync<TableEntity>(id, StepRow.Key(stepId), cancellationToken: cancellationToken) is { HasValue: true } found
        && found.Value is { } row
            ? StepRow.Read(row)
            : null;

    /// <summary>The audit trail, oldest first, with the events as stored.</summary>
    public async Task<IReadOnlyList<(long Version, EscalationEvent Event, DateTimeOffset At)>> ReadHistoryAsync(string id, CancellationToken cancellationToken)
    {
        var entries = new List<(long, EscalationEvent, DateTimeOffset)>();
        await foreach (var e in _table.QueryAsync<TableEntity>(AuditRow.Filter(id), cancellationToken: cancellationToken))
        {
            entries.Add((e.GetInt64("Version")!.Value, EscalationWorkflow.Events.Deserialize(e.GetString("Type")!, e.GetString("Data")!), e.GetDateTimeOffset("At")!.Value));
        }

        return entries;
    }

    /// <summary>Marks the orchestration begun and returns the escalation as it is then: a change committed later sees it begun and tells it.</summary>
    public async Task<StoredEscalation> MarkStartedAsync(string id, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var row = (await _table.GetEntityAsync<TableEntity>(id, EscalationRow, cancellationToken: cancellationToken)).Value;
            if (row.GetBoolean("Started") == true)
            {
                return Read(row);
            }

            row["Started"] = true;
            try
            {
                await _table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return Read(row);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Changed meanwhile: read again.
            }
        }

        throw new ConcurrencyException($"escalation-{id}", Attempts);
    }

    /// <summary>
    /// Runs one step exactly once: unless <paramref name="stepId"/> was decided before (its outcome is returned and
    /// nothing changes), <paramref name="decide"/> gives the events for the escalation as stored now (none stored:
    /// the initial state), and the new state, its audit rows and the step's outcome are written in one transaction
    /// under the row's ETag. A refusal is recorded as the step's outcome, with no events. The step that first
    /// raises the escalation is recorded as its starter. <c>Replayed</c> when the step had been decided before.
    /// </summary>
    public async Task<(StoredEscalation Escalation, StepOutcome Outcome, IReadOnlyList<EscalationEvent> Events, bool Replayed)> ApplyAsync(
        string id, string stepId, Actor by, DateTimeOffset at, Func<StoredEscalation, IEnumerable<EscalationEvent>> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var done = await LoadOutcomeAsync(id, stepId, cancellationToken);
            var found = await _table.GetEntityIfExistsAsync<TableEntity>(id, EscalationRow, cancellationToken: cancellationToken);
            var row = found.HasValue ? found.Value : null;
            var stored = row is null ? new StoredEscalation(id, EscalationState.Initial, 0, null, false) : Read(row);
            if (done is not null)
            {
                return (stored, done, [], true);
            }

            var (events, outcome) = StepRow.Decide(() => decide(stored), stored.Version, () => Names<EscalationStatus>.Of(stored.State.Status));
            var state = events.Aggregate(stored.State, EscalationWorkflow.Evolve);
            var after = stored with { State = state, Version = outcome.Version, Starter = stored.Starter ?? (state.Raised is null ? null : stepId) };
            TableTransactionAction[] actions =
            [
                row is null
                    ? new(TableTransactionActionType.Add, Row(after))
                    : new(TableTransactionActionType.UpdateReplace, Row(after), row.ETag),
                .. StepRow.Actions(id, stepId, outcome, stored.Version, events, EscalationWorkflow.Events, at, by),
            ];
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return (after, outcome, events, false);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another step (or a re-run of this one) wrote first: read again; a decided step returns its outcome.
            }
        }

        throw new ConcurrencyException($"escalation-{id}", Attempts);
    }

    private static TableEntity Row(StoredEscalation e) => new(e.Id, EscalationRow)
    {
        ["State"] = JsonSerializer.Serialize(e.State, WorkflowJson.Options),
        ["Version"] = e.Version,
        ["Status"] = e.State.Status.ToString(),
        ["Date"] = e.State.Raised is { } raised ? RoundWorkflow.Key(raised.Date) : null,
        ["Starter"] = e.Starter,
        ["Started"] = e.Started,
    };

    private static StoredEscalation Read(TableEntity row) => new(
        row.PartitionKey, JsonSerializer.Deserialize<EscalationState>(row.GetString("State")!, WorkflowJson.Options)!, row.GetInt64("Version")!.Value,
        row.GetString("Starter"), row.GetBoolean("Started") == true);
}
