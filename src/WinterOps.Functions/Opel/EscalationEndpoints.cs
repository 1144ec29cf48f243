using Microsoft.Azure.Functions.Worker;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;

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
    public static Task AcknowledgeEscalation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/escalations/{escalationId}/acknowledge")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Executive, Roles.Coordinator), AcknowledgeAsync);

    /// <summary>Close an escalation with a reason (Coordinator).</summary>
    [Function("ResolveEscalation")]
    public static Task ResolveEscalation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/escalations/{escalationId}/resolve")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), ResolveAsync);


    private static async Task<IResult> ListAsync(string? status, CommandHandler handler, CancellationToken cancellationToken)
    {
        new Validation().Require(status is null or "open", "status", "Use status=open, or leave it out for all.").ThrowIfAny();
        var views = new List<EscalationView>();
        await foreach (var (state, head) in handler.LoadAllAsync(EscalationWorkflow.Definition, cancellationToken))
        {
            if (state.Raised is not null && (status is null || state.Status is EscalationStatus.Alerted or EscalationStatus.Acknowledged))
            {
                views.Add(View(head.StreamId[(EscalationWorkflow.Name.Length + 1)..], state, head.Version));
            }
        }

        return TypedResults.Ok(views.OrderByDescending(v => v.Alerts.Count > 0 ? v.Alerts[0].At : default).ToList());
    }

    private static async Task<IResult> GetAsync(string escalationId, HttpContext http, CommandHandler handler, CancellationToken cancellationToken)
    {
        var (state, version) = await LoadAsync(handler, escalationId, cancellationToken);
        if (state is null)
        {
            return Unknown(escalationId);
        }

        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Ok(View(escalationId, state, version));
    }

    private static async Task<IResult> AcknowledgeAsync(
        string escalationId, AcknowledgeBody body, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken)
    {
        new Validation().Require(body.Note is null || body.Note.Length <= 1000, "note", "At most 1000 characters.").ThrowIfAny();
        return await SendAsync(
            escalationId, now => new EscalationCommand.Acknowledge(http.Caller().Name, body.Note?.Trim(), now), http, handler, time, cancellationToken,
            state => EscalationWorkflow.AlertedRole(state.Raised!.Rule).Id is var role && !http.Caller().Roles.Contains(role)
                ? TypedResults.Problem(statusCode: 403, title: "Not yours to acknowledge.", detail: $"This escalation alerts the {role} role; one of them acknowledges it.")
                : null);
    }

    private static async Task<IResult> ResolveAsync(
        string escalationId, ResolveBody body, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken)
    {
        new Validation().Require(!string.IsNullOrWhiteSpace(body.Reason) && body.Reason.Length <= 500, "reason", "Say why (1 to 500 characters).").ThrowIfAny();
        return await SendAsync(escalationId, now => new EscalationCommand.Resolve(body.Reason!.Trim(), now), http, handler, time, cancellationToken);
    }

    private static async Task<IResult> SendAsync(
        string escalationId, Func<DateTimeOffset, EscalationCommand> command, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken,
        Func<EscalationState, IResult?>? refuse = null)
    {
        var (state, _) = await LoadAsync(handler, escalationId, cancellationToken);
        if (state is null)
        {
            return Unknown(escalationId);
        }

        if (refuse?.Invoke(state) is { } refused)
        {
            return refused;
        }

        var now = time.GetUtcNow();
        var result = await handler.HandleAsync(
            EscalationWorkflow.Definition, escalationId, command(now), http.CommandContext(now), ETags.ExpectedVersion(http.Request), cancellationToken);
        http.Response.Headers.ETag = result.ETag;
        return TypedResults.Ok(View(escalationId, result.State, result.Version));
    }

    private static async Task<(EscalationState? State, long Version)> LoadAsync(CommandHandler handler, string escalationId, CancellationToken cancellationToken)
    {
        if (!EscalationId().IsMatch(escalationId))
        {
            return (null, 0);
        }

        var (state, head) = await handler.LoadAsync(EscalationWorkflow.Definition, EscalationWorkflow.Definition.StreamId(escalationId), cancellationToken);
        return state.Raised is null ? (null, 0) : (state, head!.Version);
    }

    private static EscalationView View(string id, EscalationState s, long version) => new(
        id, s.Status, s.Raised!.Rule, s.Raised.Date, s.Raised.Subject, s.Raised.Summary, s.Raised.Details, s.Alerts, s.Acknowledgement, s.Resolution, version);

    private static ProblemHttpResult Unknown(string id) =>
        TypedResults.Problem(statusCode: 404, title: "No such escalation.", detail: $"No escalation '{id}'.");

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[A-Za-z0-9]{1,40}-[A-Z0-9]{1,20}\z|^[0-9]{4}-[0-9]{2}-[0-9]{2}-[A-Za-z0-9]{1,40}-system\z")]
    private static partial Regex EscalationId();
}
