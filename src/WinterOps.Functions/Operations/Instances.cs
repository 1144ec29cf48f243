using System.Globalization;
using System.Text.Json;
using System.Xml;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Placements;

namespace WinterOps.Functions.Operations;

/// <summary>A workflow instance as coordinators see it: its progress (the orchestration's custom status) and, when it failed, why.</summary>
public sealed record InstanceSummary(
    string InstanceId, string Kind, string Status, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt, JsonElement? Progress, InstanceFailure? Failure);

public sealed record InstanceFailure(string ErrorType, string Message);

/// <summary>Settings (section <c>Operations</c>).</summary>
public sealed class OperationsOptions
{
    /// <summary>How long a completed or terminated instance's Durable history is kept before the purge timer removes it.</summary>
    public TimeSpan PurgeCompletedAfter { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// The workflow instances, for the coordination centre on a bad day: list them by kind, status and age; start a failed
/// one again from its input; hear of every failure in the inbox; and keep the task hub small by purging old finished ones.
/// </summary>
public static partial class Instances
{
    /// <summary>The kinds of workflow, by their orchestration names.</summary>
    public static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["placement"] = PlacementOrchestration.Name,
        ["round"] = RoundOrchestration.Name,
        ["escalation"] = EscalationOrchestration.Name,
        ["delivery"] = DeliveryOrchestration.Name,
    };

    private static readonly Dictionary<string, OrchestrationRuntimeStatus[]> Statuses = new(StringComparer.Ordinal)
    {
        ["running"] = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Suspended],
        ["failed"] = [OrchestrationRuntimeStatus.Failed],
        ["completed"] = [OrchestrationRuntimeStatus.Completed],
        ["terminated"] = [OrchestrationRuntimeStatus.Terminated],
    };

    /// <summary>
    /// Workflow instances, newest first within what the task hub returns (Coordinator). kind: placement, round,
    /// escalation or delivery; status: running, failed, completed or terminated; olderThan: an ISO 8601 duration
    /// (PT2H: created over two hours ago); limit: 1-500 (default 100).
    /// </summary>
    [Function("ListInstances")]
    public static Task ListInstances([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/operations/instances")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), ListAsync);

    /// <summary>Start a failed instance again from its input, under the same id, once the cause is fixed (Coordinator).</summary>
    [Function("RestartInstance")]
    public static Task RestartInstance([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/operations/instances/{instanceId}/restart")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), RestartAsync);

    private static async Task<IResult> ListAsync(
        string? kind, string? status, string? olderThan, int? limit, [DurableClient] DurableTaskClient durable, TimeProvider time, CancellationToken cancellationToken)
    {
        TimeSpan? age = null;
        var v = new Validation()
            .Require(kind is null || Kinds.ContainsKey(kind), "kind", $"Use one of: {string.Join(", ", Kinds.Keys)}.")
            .Require(status is null || Statuses.ContainsKey(status), "status", $"Use one of: {string.Join(", ", Statuses.Keys)}.")
            .Require(limit is null or (>= 1 and <= 500), "limit", "Ask for 1 to 500 instances.");
        if (olderThan is not null)
        {
            age = Duration(olderThan);
            v.Require(age is { } a && a >= TimeSpan.Zero, "olderThan", "Give an ISO 8601 duration, e.g. PT2H or P1D.");
        }

        v.ThrowIfAny();
        var query = new OrchestrationQuery
        {
            Statuses = status is null ? null : Statuses[status],
            CreatedTo = age is { } older ? time.GetUtcNow() - older : null,
            FetchInputsAndOutputs = true,
            PageSize = 100,
        };
        var name = kind is null ? null : Kinds[kind];
        var found = new List<InstanceSummary>();
        await foreach (var instance in durable.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (name is null || instance.Name == name)
            {
                found.Add(await SummariseAsync(durable, instance, cancellationToken));
                if (found.Count == (limit ?? 100))
                {
                    break;
                }
            }
        }

        return TypedResults.Ok(found.OrderByDescending(i => i.CreatedAt).ToList());
    }

    private static async Task<IResult> RestartAsync(string instanceId, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var instance = instanceId.Length <= 200 ? await durable.GetInstanceAsync(instanceId, cancellationToken) : null;
        if (instance is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "No such instance.", detail: $"There is no workflow instance '{instanceId}'.");
        }

        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Failed)
        {
            return TypedResults.Problem(
                statusCode: 409, title: "Only a failed instance can be started again.",
                detail: $"Instance '{instanceId}' is {Status(instance.RuntimeStatus)}.");
        }

        // Scheduled anew under the same id with the input it had (a failed instance may be replaced), rather than through
        // RestartAsync: the local sidecar's restart leaves an instance its GetInstance cannot read until it runs.
        var input = (await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken))?.SerializedInput;
        await durable.ScheduleNewOrchestrationInstanceAsync(
            instance.Name, input is null ? null : JsonDocument.Parse(input).RootElement.Clone(), new StartOrchestrationOptions(instanceId), cancellationToken);
        return TypedResults.Accepted($"/api/operations/instances?status=running", new { restarted = instanceId });
    }

    /// <summary>
    /// The instance as listed. A query need not carry a failure's details (the local sidecar's does not), so a failed
    /// one without them is read again on its own.
    /// </summary>
    public static async Task<InstanceSummary> SummariseAsync(DurableTaskClient durable, OrchestrationMetadata instance, CancellationToken cancellationToken)
    {
        if (instance is { RuntimeStatus: OrchestrationRuntimeStatus.Failed, FailureDetails: null }
            && await durable.GetInstanceAsync(instance.InstanceId, getInputsAndOutputs: true, cancellationToken) is { } read)
        {
            instance = read;
        }

        return Summarise(instance);
    }

    private static InstanceSummary Summarise(OrchestrationMetadata instance) => new(
        instance.InstanceId,
        Kinds.FirstOrDefault(k => k.Value == instance.Name).Key ?? instance.Name,
        Status(instance.RuntimeStatus),
        instance.CreatedAt,
        instance.LastUpdatedAt,
        instance.SerializedCustomStatus is { Length: > 0 } progress ? JsonDocument.Parse(progress).RootElement.Clone() : null,
        instance.FailureDetails is { } failure
            ? new InstanceFailure(failure.ErrorType, failure.ErrorMessage)
            : instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? new InstanceFailure("", instance.SerializedOutput ?? "") : null);

    private static string Status(OrchestrationRuntimeStatus status) =>
        Statuses.FirstOrDefault(s => s.Value.Contains(status)).Key ?? status.ToString().ToLowerInvariant();

    private static TimeSpan? Duration(string text)
    {
        try
        {
            return XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>The instances' timers: failures told to the coordination centre, old finished histories purged.</summary>
public sealed class InstanceTimers(InboxStore inbox, OperationsOptions options, TimeProvider time)
{
    /// <summary>Tells the coordination centre of every failed instance, once per failure (the inbox row is keyed by the failure's time).</summary>
    [Function("InstanceWatch")]
    public async Task InstanceWatch([TimerTrigger("0 */5 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Failed], FetchInputsAndOutputs = true, PageSize = 100 };
        await foreach (var instance in durable.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            var summary = await Instances.SummariseAsync(durable, instance, cancellationToken);
            await inbox.DeliverAsync(
                $"failed-{instance.InstanceId}",
                new Notification(
                    "InstanceFailed", Recipient.Role(Roles.Coordinator), $"{summary.Kind} {instance.InstanceId} failed", instance.InstanceId,
                    new Dictionary<string, string> { ["instanceId"] = instance.InstanceId, ["kind"] = summary.Kind, ["error"] = summary.Failure?.Message ?? "" },
                    $"/api/operations/instances?status=failed", Severity: Severity.Critical),
                instance.LastUpdatedAt,
                cancellationToken);
        }
    }

    /// <summary>Purges the Durable history of instances that completed or were terminated, created longer ago than <c>Operations__PurgeCompletedAfter</c>.</summary>
    [Function("PurgeInstances")]
    public async Task PurgeInstances([TimerTrigger("0 30 3 * * *")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken) =>
        await durable.PurgeAllInstancesAsync(
            new PurgeInstancesFilter(DateTimeOffset.UnixEpoch, time.GetUtcNow() - options.PurgeCompletedAfter, [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Terminated]),
            cancellationToken);
}
