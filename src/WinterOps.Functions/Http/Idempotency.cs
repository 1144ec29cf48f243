using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.Features;
using WinterOps.Azure.Storage;

namespace WinterOps.Functions.Http;

/// <summary>
/// Honours <c>Idempotency-Key</c> on POST and PUT: the first request with a key runs and its 2xx
/// response is stored; a repeat with the same body gets that response again without a second effect;
/// a repeat with another body gets 422; a repeat while the first still runs gets 409. Keys are scoped
/// to the caller and the route. A request that did not succeed stores nothing, so it can be retried.
/// </summary>
public sealed class Idempotency(StorageAccount storage, TimeProvider time)
{
    public const string Header = "Idempotency-Key";

    /// <summary>A "running" claim older than this belongs to a request that died.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    private readonly TableClient _table = storage.Table(StorageNames.IdempotencyTable);

    /// <summary>Runs <paramref name="next"/> once per key; replays, refuses or passes the request through as described above.</summary>
    public async Task RunAsync(HttpContext context, Func<Task> next)
    {
        var request = context.Request;
        if (!(HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method))
            || !request.Headers.TryGetValue(Header, out var keys))
        {
            await next();
            return;
        }

        var key = keys.ToString();
        if (key.Length is 0 or > 200 || key.Any(char.IsControl))
        {
            throw new ValidationFailedException(new Dictionary<string, string[]> { [Header] = ["Use 1 to 200 printable characters, e.g. a UUID."] });
        }

        request.EnableBuffering(); // Api has buffered it already; this keeps the class safe on its own
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        request.Body.Position = 0;
        var requestHash = Hash(request.ContentType ?? "", buffer.ToArray());

        var caller = context.User.FindFirst("oid")?.Value ?? context.User.FindFirst("sub")?.Value ?? "anonymous";
        // Routes match without regard to case or a trailing slash, and so does the key's scope.
        var route = (request.Path.Value ?? "").TrimEnd('/').ToUpperInvariant();
        var partition = Hash($"{caller}\n{request.Method}\n{route}\n{key}", []);
        var record = new TableEntity(partition, "") { ["RequestHash"] = requestHash, ["State"] = "running", ["CreatedAt"] = time.GetUtcNow() };

        context.Items[Commands.RequestKeyItem] = partition;
        if (!await TryClaimAsync(record, context.RequestAborted))
        {
            await ReplayAsync(context, partition, requestHash);
            return;
        }

        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        var keep = false;
        try
        {
            await next();
            if (context.Response.StatusCode is >= 200 and < 300)
            {
                // From here the change is committed: never release the claim, even if recording the
                // answer fails (a retry then waits, then re-runs: the same details or return again is no
                // change, and workflow steps are keyed by the request's id).
                keep = true;
                await _table.UpdateEntityAsync(
                    new TableEntity(partition, "")
                    {
                        ["State"] = "done",
                        ["Status"] = context.Response.StatusCode,
                        ["ContentType"] = context.Response.ContentType,
                        ["Location"] = context.Response.Headers.Location.ToString(),
                        ["ETag"] = context.Response.Headers.ETag.ToString(),
                        ["Body"] = captured.ToArray(),
                    },
                    ETag.All,
                    TableUpdateMode.Merge,
                    CancellationToken.None);
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!keep)
            {
                await ReleaseAsync(partition);
            }
        }

        captured.Position = 0;
        await captured.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>Claims the key; a claim abandoned by a crashed request is taken over after a while.</summary>
    private async Task<bool> TryClaimAsync(TableEntity record, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(record, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var existing = (await _table.GetEntityAsync<TableEntity>(record.PartitionKey, "", cancellationToken: cancellationToken)).Value;
            if (existing.GetString("State") != "running" || existing.GetDateTimeOffset("CreatedAt") > time.GetUtcNow() - AbandonedAfter)
            {
                return false;
            }

            await _table.UpdateEntityAsync(record, existing.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
    }

    private async Task ReleaseAsync(string partition)
    {
        try
        {
            await _table.DeleteEntityAsync(partition, "", ETag.All, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Storage failed the request too; the claim expires after AbandonedAfter.
        }
    }

    private async Task ReplayAsync(HttpContext context, string partition, string requestHash)
    {
        var existing = (await _table.GetEntityAsync<TableEntity>(partition, "", cancellationToken: context.RequestAborted)).Value;
        if (existing.GetString("RequestHash") != requestHash)
        {
            throw new IdempotencyKeyReusedException();
        }

        if (existing.GetString("State") != "done")
        {
            throw new IdempotencyKeyInFlightException();
        }

        var response = context.Response;
        response.StatusCode = existing.GetInt32("Status")!.Value;
        response.ContentType = existing.GetString("ContentType");
        CopyHeader(existing, "Location", v => response.Headers.Location = v);
        CopyHeader(existing, "ETag", v => response.Headers.ETag = v);
        response.Headers["Idempotent-Replayed"] = "true";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.WriteAsync(existing.GetBinary("Body") ?? [], context.RequestAborted);
    }

    private static void CopyHeader(TableEntity entity, string name, Action<string> set)
    {
        if (entity.GetString(name) is { Length: > 0 } value)
        {
            set(value);
        }
    }

    private static string Hash(string text, byte[] body)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(text));
        sha.AppendData(body);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>The Idempotency-Key was used before with a different request (422).</summary>
public sealed class IdempotencyKeyReusedException()
    : Exception("This Idempotency-Key was already used with a different request body. Use a new key for a new request.");

/// <summary>The first request with this Idempotency-Key is still running (409).</summary>
public sealed class IdempotencyKeyInFlightException()
    : Exception("A request with this Idempotency-Key is still being processed. Retry shortly.");
