using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;

namespace WinterOps.Functions.Http;

public static class Commands
{
    internal const string RequestKeyItem = "WinterOps.RequestKey";

    /// <summary>
    /// A stable id for this request: derived from its Idempotency-Key (and caller and route) when it has
    /// one, so a retry of a request whose first try committed but never answered is recognised by the
    /// stream as the same command; otherwise unique to the request.
    /// </summary>
    public static string RequestId(this HttpContext http) =>
        http.Items.TryGetValue(RequestKeyItem, out var key) && key is string stable ? stable : http.TraceIdentifier;

    /// <summary>The command context of this request: its id (one per <paramref name="step"/>), the caller, the time.</summary>
    public static CommandContext CommandContext(this HttpContext http, DateTimeOffset now, string? step = null) =>
        new(step is null ? http.RequestId() : $"{http.RequestId()}:{step}", http.Caller().ToActor(), now);
}
