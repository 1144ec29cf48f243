using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;

namespace WinterOps.Functions.Http;

public static class Commands
{
    internal const string RequestKeyItem = "WinterOps.RequestKey";

    /// <summary>
    /// A stable id for this request: derived from its Idempotency-Key (and caller and route) when it has
    /// one, so a retry of a request whose first try committed but never answered is recognised by the
    /// stream as the same command; otherwise random, made once per request.
    /// </summary>
    public static string RequestId(this HttpContext http)
    {
        if (!http.Items.TryGetValue(RequestKeyItem, out var key) || key is not string id)
        {
            // Not the trace identifier: that is unique only within one process, and ids must be unique across instances.
            http.Items[RequestKeyItem] = id = Guid.NewGuid().ToString("N");
        }

        return id;
    }

    /// <summary>The command context of this request: its id (one per <paramref name="step"/>), the caller, the time.</summary>
    public static CommandContext CommandContext(this HttpContext http, DateTimeOffset now, string? step = null) =>
        new(step is null ? http.RequestId() : $"{http.RequestId()}:{step}", http.Caller().ToActor(), now);
}
