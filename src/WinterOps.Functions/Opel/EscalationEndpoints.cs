using Microsoft.Azure.Functions.Worker;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Placements;

namespace WinterOps.Functions.Opel;

public sealed record AcknowledgeBody(string? Note);

public sealed record ResolveBody(string? Reason);

public sealed record EscalationView(
    string EscalationId, EscalationStatus Status, EscalationRule Rule, DateOnly Date, string Subject, string Summary,
    IReadOnlyDictionary<string, string> Details, IReadOnlyList<Alert> Alerts, EscalationEvent.Acknowledged? Acknowledgement,
    EscalationEvent.Resolved? Resolution, long Version);

public static partial class EscalationEndpoints
{
    /// <summary>Escalations, newest first; ?status=open for those alerted or acknowledged but not resolved (Executives, Coordinators).</summary>
    [Function("ListEscalations")]
    public static Task ListEscalations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/escalations")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Executive, Roles.Coordinator), ListAsync);

    /// <summary>An escalation with its alert history (Executives, Coordinators).</summary>
    [Function("GetEscalation")]
    public static Task GetEscalation([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/escalations/{escalationId}")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Executive, Roles.Coordinator), GetAsync);

    /// <summary>Acknowledge an escalation: the on-call ladder stops (Executive; Coordinator for an unplaced placement's).</summary>
    [Function("AcknowledgeEscalation")]
    public static Task AcknowledgeEscalation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/escalations/{escalationId}/acknowledge")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Executive, Roles.Coordinator), AcknowledgeAsync, client);

    /// <summary>Close an escalation with a reason (Coordinator).</summary>
    [Function("ResolveEscalation")]
    public static Task ResolveEscalation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/escalations/{escalationId}/resolve")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), ResolveAsync, client);


    private static async Task<IResult> ListAsync(string? status, EscalationStore store, CancellationToken cancellationToken)
    {
        new Validation().Require(status is null or "open", "status", "Use status=open, or leave it out for all.").ThrowIfAny();
        var views = new List<EscalationView>();
        await foreach (var e in store.LoadAllAsync(null, cancellationToken))
        {
            if (status is null || e.State.Status is EscalationStatus.Alerted or EscalationStatus.Acknowledged)
            {
                views.Add(View(e));
            }
        }

        return TypedResults.Ok(views.OrderByDescending(v => v.Alerts.Count > 0 ? v.Alerts[0].At : default).ToList());
    }

    private static async Task<IResult> GetAsync(string escalationId, HttpContext http, EscalationStore store, CancellationToken cancellationToken)
    {
        if (await LoadAsync(store, escalationId, cancellationToken) is not { } escalation)
        {
            return Unknown(escalationId);
        }

        http.Response.Headers.ETag = ETags.For(escalation.Version);
        return TypedResults.Ok(View(escalation));
    }

    private static async Task<IResult> AcknowledgeAsync(
        string escalationId, AcknowledgeBody body, HttpContext http, EscalationStore store, PlacementOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        new Validation().Require(body.Note is null || body.Note.Length <= 1000, "note", "At most 1000 characters.").ThrowIfAny();
        return await SendAsync(
            escalationId, new EscalationCommand.Acknowledge(http.Caller().Name, body.Note?.Trim(), time.GetUtcNow()), http, store, options, cancellationToken,
            state => EscalationWorkflow.AlertedRole(state.Raised!.Rule).Id is var role && !http.Caller().Roles.Contains(role)
                ? TypedResults.Problem(statusCode: 403, title: "Not yours to acknowledge.", detail: $"This escalation alerts the {role} role; one of them acknowledges it.")
                : null);
    }

    private static async Task<IResult> ResolveAsync(
        string escalationId, ResolveBody body, HttpContext http, EscalationStore store, PlacementOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        new Validation().Require(!string.IsNullOrWhiteSpace(body.Reason) && body.Reason.Length <= 500, "reason", "Say why (1 to 500 characters).").ThrowIfAny();
        return await SendAsync(escalationId, new EscalationCommand.Resolve(body.Reason!.Trim(), time.GetUtcNow()), http, store, options, cancellationToken);
    }

    /// <summary>
    /// A person's action: answered at once when the rules refuse it, or it changes nothing, on the escalation as
    /// stored; otherwise stored, raised to the orchestration by id, and answered with its decision, waited for a
    /// bounded time (<c>Placements__DecisionWait</c>); past the bound, 202 with the escalation's Location.
    /// </summary>
    private static async Task<IResult> SendAsync(
        string escalationId, EscalationCommand command, HttpContext http, EscalationStore store, PlacementOptions options, CancellationToken cancellationToken,
        Func<EscalationState, IResult?>? refuse = null)
    {
        if (await LoadAsync(store, escalationId, cancellationToken) is not { } escalation)
        {
            return Unknown(escalationId);
        }

        if (refuse?.Invoke(escalation.State) is { } refused)
        {
            return refused;
        }

        var expected = ETags.ExpectedVersion(http.Request);
        if (expected is { } version && version != escalation.Version)
        {
            throw new VersionMismatchException($"escalation-{escalationId}", version, escalation.Version);
        }

        if (!EscalationWorkflow.Decide(command, escalation.State).Any())
        {
            return Answer(http, escalation); // already so: nothing to decide
        }

        var actionId = http.RequestId();
        await store.SaveActionAsync(escalationId, actionId, new EscalationAction(command, http.Caller().ToActor(), expected), cancellationToken);
        await http.DurableClient().RaiseEventAsync(
            EscalationOrchestration.InstanceId(escalationId), EscalationOrchestration.ChangedEvent, new EscalationSignal(actionId), cancellationToken);
        var outcome = await Api.WaitAsync(() => store.LoadOutcomeAsync(escalationId, actionId, cancellationToken), o => o is not null, options.DecisionWait, cancellationToken);
        switch (outcome?.Status)
        {
            case null:
                http.Response.Headers.RetryAfter = "1";
                http.Response.Headers.ETag = ETags.For(escalation.Version);
                return TypedResults.Accepted($"/api/escalations/{escalationId}"); // still being decided: read the escalation for the outcome
            case 409:
                throw new CommandRejectedException(outcome.Detail ?? "The escalation refused this request.");
            case 412:
                throw new VersionMismatchException($"escalation-{escalationId}", expected ?? 0, outcome.Version);
        }

        return Answer(http, (await store.LoadAsync(escalationId, cancellationToken))!);
    }

    private static Ok<EscalationView> Answer(HttpContext http, StoredEscalation escalation)
    {
        http.Response.Headers.ETag = ETags.For(escalation.Version);
        return TypedResults.Ok(View(escalation));
    }

    private static async Task<StoredEscalation?> LoadAsync(EscalationStore store, string escalationId, CancellationToken cancellationToken) =>
        EscalationId().IsMatch(escalationId) && await store.LoadAsync(escalationId, cancellationToken) is { State.Raised: not null } escalation ? escalation : null;

    private static EscalationView View(StoredEscalation e) => new(
        e.Id, e.State.Status, e.State.Raised!.Rule, e.State.Raised.Date, e.State.Raised.Subject, e.State.Raised.Summary, e.State.Raised.Details, e.State.Alerts,
        e.State.Acknowledgement, e.State.Resolution, e.Version);

    private static ProblemHttpResult Unknown(string id) =>
        TypedResults.Problem(statusCode: 404, title: "No such escalation.", detail: $"No escalation '{id}'.");

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[A-Za-z0-9]{1,40}-[A-Z0-9]{1,20}\z|^[0-9]{4}-[0-9]{2}-[0-9]{2}-[A-Za-z0-9]{1,40}-system\z")]
    private static partial Regex EscalationId();
}
