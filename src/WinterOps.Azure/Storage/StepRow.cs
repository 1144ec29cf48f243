using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Storage;

/// <summary>How an orchestration's activity decided one step: 200, or 409/412 with the reason; the workflow's version after it.</summary>
public sealed record StepOutcome(int Status, string? Detail, string? State, long Version);

/// <summary>
/// A step decided exactly once, in a workflow's own partition: row <c>step-{stepId}</c> holds its outcome and is written
/// in the same transaction as the step's <c>event-{version}</c> audit rows, so a re-run activity finds it and changes nothing.
/// </summary>
public static class StepRow
{
    public static string Key(string stepId) => $"step-{stepId}";

    public static StepOutcome Read(TableEntity row) =>
        new(row.GetInt32("Status")!.Value, row.GetString("Detail"), row.GetString("State"), row.GetInt64("Version")!.Value);

    /// <summary>
    /// The events <paramref name="decide"/> gives, and the step's outcome: a refusal by the rules (409, named by
    /// <paramref name="state"/> unless the refusal names its own) or a stale If-Match (412) is recorded with no events.
    /// </summary>
    public static (List<TEvent> Events, StepOutcome Outcome) Decide<TEvent>(Func<IEnumerable<TEvent>> decide, long version, Func<string> state)
    {
        try
        {
            var events = decide().ToList();
            return (events, new StepOutcome(200, null, null, version + events.Count));
        }
        catch (CommandRejectedException rejected)
        {
            return ([], new StepOutcome(409, rejected.Message, rejected.State ?? state(), version));
        }
        catch (VersionMismatchException mismatch)
        {
            return ([], new StepOutcome(412, mismatch.Message, null, version));
        }
    }

    /// <summary>The step's row and its events' audit rows (versions after <paramref name="version"/>), to add in one transaction.</summary>
    public static IEnumerable<TableTransactionAction> Actions<TEvent>(
        string partitionKey, string stepId, StepOutcome outcome, long version, IEnumerable<TEvent> events, TypeNames<TEvent> names, DateTimeOffset at, Actor by)
        where TEvent : class
    {
        yield return new(TableTransactionActionType.Add, new TableEntity(partitionKey, Key(stepId))
        {
            ["Status"] = outcome.Status, ["Detail"] = outcome.Detail, ["State"] = outcome.State, ["Version"] = outcome.Version,
        });
        foreach (var e in events)
        {
            var audit = AuditRow.For(partitionKey, ++version, names.NameOf(e), names.Serialize(e), at, by);
            audit["Step"] = stepId;
            yield return new(TableTransactionActionType.Add, audit);
        }
    }
}
