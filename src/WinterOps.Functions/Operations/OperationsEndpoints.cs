using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.DurableTask.Client;
using Microsoft.Azure.Functions.Worker;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Notifications;

namespace WinterOps.Functions.Operations;

public sealed record HealthResponse(string Status, string Storage, string Version);

public sealed record DevTokenRequest(string? Role, string? Org, string? Name);

public sealed record DevTokenResponse(string AccessToken, DateTimeOffset ExpiresAt);

public static partial class OperationsEndpoints
{
    public static string Version { get; } =
        typeof(OperationsEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    [Function("Health")]
    public static Task Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/health")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous, HealthAsync);

    /// <summary>
    /// Notifications addressed to the caller's organisation(s) or role, newest first; a broker sees its homes' only.
    /// since: only those created after this time. limit: 1-200 (default 50). When there are older ones, the Link header
    /// (rel="next") gives the next page's URL, with its before cursor.
    /// </summary>
    [Function("GetInbox")]
    public static Task GetInbox([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/inbox")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, InboxAsync);

    /// <summary>Notifications a channel (Service Bus, Teams, webhook) refused or that failed every attempt, newest first, with the reason (Coordinator).</summary>
    [Function("ListDeadLetters")]
    public static Task ListDeadLetters([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/operations/dead-letters")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), static async (DeadLetters deadLetters, int? limit, CancellationToken ct) =>
        {
            new Validation().Require(limit is null or (>= 1 and <= 500), "limit", "Ask for 1 to 500 dead letters.").ThrowIfAny();
            return TypedResults.Ok(await deadLetters.ListAsync(limit ?? 100, ct));
        });

    /// <summary>Deliver a dead-lettered notification again from its first attempt, once the cause is fixed (Coordinator).</summary>
    [Function("RedriveDeadLetter")]
    public static Task RedriveDeadLetter([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/operations/dead-letters/{id}/redrive")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), RedriveDeadLetterAsync);

    /// <summary>Development only: a token for any demo user, signed by the local development issuer (404 unless it is switched on).</summary>
    [Function("DevToken")]
    public static Task DevToken([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/dev/token")] HttpRequest request) =>
        Api.RunAsync(request, Access.Anonymous.InDevelopmentOnly(), IssueDevToken);

    /// <summary>
    /// Starts a new delivery of the dead letter's notification on its channel (instance <c>redrive-{id}</c>, the same
    /// notification id, so Service Bus drops a copy it already has), then removes the dead letter.
    /// </summary>
    private static async Task<IResult> RedriveDeadLetterAsync(
        string id, DeadLetters deadLetters, NotificationOptions options, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (!DeadLetterId().IsMatch(id) || await deadLetters.FindAsync(id, cancellationToken) is not { } letter)
        {
            return TypedResults.Problem(statusCode: 404, title: "No such dead letter.", detail: $"There is no dead letter '{id}'; it may have been re-driven already.");
        }

        var request = letter.Request;
        await Notifier.StartAsync(
            durable, $"redrive-{id}",
            new DeliveryInput(request.OutboxId, request.WorkflowId, request.Notification, request.CreatedAt, [request.Channel], options.MaxAttempts, options.FirstRetry),
            cancellationToken);
        await deadLetters.RemoveAsync(id, cancellationToken);
        return TypedResults.Accepted((string?)null, new { redriven = id });
    }

    private static async Task<IResult> HealthAsync(
        StorageAccount storage, StorageProvisioner provisioner, HttpContext http, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await provisioner.Ready.WaitAsync(timeout.Token);
            await foreach (var _ in storage.Table(StorageNames.DurableChecksTable).QueryAsync<global::Azure.Data.Tables.TableEntity>(
                               filter: "PartitionKey eq 'health'", maxPerPage: 1, cancellationToken: timeout.Token))
            {
                break;
            }

            return TypedResults.Ok(new HealthResponse("ok", "ok", Version));
        }
        catch (Exception e) when (StorageFailure.IsUnavailable(e) || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Json(new HealthResponse("unavailable", "unavailable", Version), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<IResult> InboxAsync(
        HttpContext http, InboxStore inbox, DateTimeOffset? since, string? before, int? limit, CancellationToken cancellationToken)
    {
        new Validation()
            .Require(limit is null or (>= 1 and <= 200), "limit", "Ask for 1 to 200 items.")
            .Require(before is null || InboxStore.IsCursor(before), "before", "Use the cursor from the previous page's Link header.")
            .ThrowIfAny();
        var page = await inbox.ReadAsync(http.Caller().Recipients, since, before, limit ?? 50, cancellationToken);
        if (page.Next is not null)
        {
            var next = new Dictionary<string, string?> { ["limit"] = (limit ?? 50).ToString(CultureInfo.InvariantCulture), ["before"] = page.Next };
            if (since is { } after)
            {
                next["since"] = after.ToString("O", CultureInfo.InvariantCulture);
            }

            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{QueryString.Create(next)}>; rel=\"next\"";
        }

        return TypedResults.Ok(page.Items);
    }

    private static IResult IssueDevToken(DevTokenRequest body, HttpContext http)
    {
        if (http.RequestServices.GetService<DevTokenIssuer>() is not { } issuer)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found.", detail: "The development issuer is off (Auth__DevelopmentIssuer).");
        }

        new Validation()
            .Require(body.Role is not null && Roles.All.Contains(body.Role), "role", $"Use one of: {string.Join(", ", Roles.All)}.")
            .Require(body.Org is null || body.Org.Length is > 0 and <= 20, "org", "An organisation code has 1 to 20 characters.")
            .Require(!string.IsNullOrWhiteSpace(body.Name) && body.Name.Length <= 100, "name", "Give the demo user's name.")
            .ThrowIfAny();
        var (token, expires) = issuer.Issue(body.Role!, body.Org, body.Name!);
        return TypedResults.Ok(new DevTokenResponse(token, expires));
    }

    /// <summary>A dead letter's id: inverted ticks, the channel, the notification id.</summary>
    [GeneratedRegex(@"^\d{19}-[a-z]+-[A-Za-z0-9._:-]{1,400}\z")]
    private static partial Regex DeadLetterId();
}
