using Azure;
using Azure.Data.Tables;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Storage;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Operations;

public sealed record DurableCheckRequest(int? TimerSeconds, int? ConfirmWithinSeconds);

/// <summary>The orchestration's input: ids and numbers only, like every Durable payload (they sit in the task hub in plain text).</summary>
public sealed record DurableCheckInput(int TimerSeconds, int ConfirmWithinSeconds);

/// <summary>Who confirmed, as the confirm event carries it.</summary>
public sealed record DurableCheckConfirmation(string By);

public sealed record DurableCheckResult(string Outcome, int ActivityRuns, DateTimeOffset TimerFiredAt, string? ConfirmedBy);

public sealed record DurableCheckStatus(string CheckId, string RuntimeStatus, string? Step, DurableCheckResult? Result, string? Error = null);

/// <summary>
/// A smoke test of the Durable engine for coordinators, after a deployment or an incident: one orchestration
/// that runs an activity (which counts its own runs in storage), waits on a durable timer, then waits for a
/// person's confirmation (an external event) or gives up at its deadline. Each step proves one part of the
/// engine: the worker, the timers, the event path and the client.
/// </summary>
public static partial class DurableCheck
{
    public const string Orchestration = nameof(DurableCheck);
    public const string ConfirmEvent = "Confirm";
    public const string InstancePrefix = "check-";

    [Function(Orchestration)]
    public static async Task<DurableCheckResult> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var input = context.GetInput<DurableCheckInput>()!;
        var log = context.CreateReplaySafeLogger(Orchestration);
        context.SetCustomStatus("activity");
        var runs = await context.CallActivityAsync<int>(nameof(DurableCheckActivities.CountDurableCheckRun), context.InstanceId);

        context.SetCustomStatus("timer");
        await context.CreateTimer(TimeSpan.FromSeconds(input.TimerSeconds), CancellationToken.None);
        var fired = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);

        context.SetCustomStatus("awaiting confirmation");
        using var deadline = new CancellationTokenSource();
        var confirmed = context.WaitForExternalEvent<DurableCheckConfirmation>(ConfirmEvent, deadline.Token);
        var expired = context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(input.ConfirmWithinSeconds), deadline.Token);
        var first = await Task.WhenAny(confirmed, expired);
        deadline.Cancel(); // the losing timer (or wait) must not keep the instance running; not CancelAsync: orchestrator code stays on its own thread
        context.SetCustomStatus(null);
        var result = first == confirmed
            ? new DurableCheckResult("confirmed", runs, fired, confirmed.Result.By)
            : new DurableCheckResult("unconfirmed", runs, fired, null);
        LogEnded(log, context.InstanceId, result.Outcome);
        return result;
    }

    [Function("StartDurableCheck")]
    public static Task StartDurableCheck([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/operations/durable-checks")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), static async (DurableCheckRequest body, HttpContext http, CancellationToken ct) =>
        {
            new Validation()
                .Require(body.TimerSeconds is null or (>= 1 and <= 300), "timerSeconds", "Wait 1 to 300 seconds on the timer (default 5).")
                .Require(body.ConfirmWithinSeconds is null or (>= 1 and <= 3600), "confirmWithinSeconds", "Allow 1 to 3600 seconds to confirm (default 300).")
                .ThrowIfAny();
            var id = InstancePrefix + Guid.NewGuid().ToString("N");
            await http.DurableClient().ScheduleNewOrchestrationInstanceAsync(
                Orchestration, new DurableCheckInput(body.TimerSeconds ?? 5, body.ConfirmWithinSeconds ?? 300), new StartOrchestrationOptions(id), ct);
            return TypedResults.Accepted($"/api/operations/durable-checks/{id}", new DurableCheckStatus(id, "Pending", null, null));
        }, client);

    [Function("GetDurableCheck")]
    public static Task GetDurableCheck([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/operations/durable-checks/{checkId}")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), static async Task<IResult> (string checkId, HttpContext http, CancellationToken ct) =>
            await http.DurableClient().GetInstanceAsync(checkId, getInputsAndOutputs: true, ct) is { } instance && checkId.StartsWith(InstancePrefix, StringComparison.Ordinal)
                ? TypedResults.Ok(Status(instance))
                : UnknownCheck(checkId), client);

    [Function("ConfirmDurableCheck")]
    public static Task ConfirmDurableCheck([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/operations/durable-checks/{checkId}/confirm")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), static async Task<IResult> (string checkId, HttpContext http, CancellationToken ct) =>
        {
            var durable = http.DurableClient();
            // The sidecar and the Functions host differ on events to missing or finished instances: decide here.
            if (await durable.GetInstanceAsync(checkId, ct) is not { } instance || !checkId.StartsWith(InstancePrefix, StringComparison.Ordinal))
            {
                return UnknownCheck(checkId);
            }

            if (instance.IsCompleted)
            {
                return TypedResults.Problem(statusCode: 409, title: "The check has finished.", detail: $"Check '{checkId}' is {instance.RuntimeStatus}.");
            }

            await durable.RaiseEventAsync(checkId, ConfirmEvent, new DurableCheckConfirmation(http.Caller().Name), ct);
            return TypedResults.Accepted($"/api/operations/durable-checks/{checkId}", Status(instance));
        }, client);

    private static DurableCheckStatus Status(OrchestrationMetadata instance) => new(
        instance.InstanceId,
        instance.RuntimeStatus.ToString(),
        instance.SerializedCustomStatus is { } step ? System.Text.Json.JsonSerializer.Deserialize<string>(step) : null,
        instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? instance.ReadOutputAs<DurableCheckResult>() : null,
        // The local sidecar leaves FailureDetails empty and puts the message in the output.
        instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? instance.FailureDetails?.ErrorMessage ?? instance.SerializedOutput : null);

    [LoggerMessage(LogLevel.Information, "Durable check {CheckId} ended {Outcome}")]
    private static partial void LogEnded(ILogger logger, string checkId, string outcome);

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult UnknownCheck(string checkId) =>
        TypedResults.Problem(statusCode: 404, title: "No such check.", detail: $"There is no Durable check '{checkId}'.");
}

/// <summary>The check's activity.</summary>
public sealed class DurableCheckActivities(StorageAccount storage)
{
    private readonly TableClient _table = storage.Table(StorageNames.DurableChecksTable);

    /// <summary>
    /// Counts this activity's runs for the check (one row per check, ETag-guarded increments) and returns the count:
    /// 1 unless the activity ran again, e.g. after a crash before its result was recorded.
    /// </summary>
    [Function(nameof(CountDurableCheckRun))]
    public async Task<int> CountDurableCheckRun([ActivityTrigger] string checkId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(checkId, "activity", cancellationToken: cancellationToken);
            var runs = existing.HasValue ? existing.Value!.GetInt32("Runs")!.Value + 1 : 1;
            var row = new TableEntity(checkId, "activity") { ["Runs"] = runs };
            try
            {
                if (existing.HasValue)
                {
                    await _table.UpdateEntityAsync(row, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await _table.AddEntityAsync(row, cancellationToken);
                }

                return runs;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another run counted at the same moment: count again.
            }
        }
    }
}
