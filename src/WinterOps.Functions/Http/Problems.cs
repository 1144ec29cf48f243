using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Http;

/// <summary>Invalid input found by an endpoint: 400 with <c>errors</c> (field -> messages).</summary>
public sealed class ValidationFailedException(IDictionary<string, string[]> errors)
    : Exception("The request is invalid.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>Collects field errors; <see cref="ThrowIfAny"/> ends the request with 400 before anything is stored.</summary>
public sealed class Validation
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool IsValid => _errors.Count == 0;

    public Validation Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
        return this;
    }

    public Validation Require(bool condition, string field, string message) => condition ? this : Add(field, message);

    public void ThrowIfAny()
    {
        if (!IsValid)
        {
            throw new ValidationFailedException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        }
    }
}

/// <summary>
/// Maps every exception to problem+json (RFC 9457): bad input 4xx with a clear detail, a domain
/// refusal 409, a stale If-Match 412, a storage outage 503 with Retry-After. Only genuine bugs are 500.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail, extensions) = Describe(exception);
        if (status >= 500 && status != StatusCodes.Status503ServiceUnavailable)
        {
            LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogStorageUnavailable(exception, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.Response.Headers.RetryAfter = "5";
        }

        httpContext.Response.StatusCode = status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail };
        foreach (var (key, value) in extensions)
        {
            problem.Extensions[key] = value;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static (int Status, string Title, string? Detail, IEnumerable<KeyValuePair<string, object?>> Extensions) Describe(Exception exception) =>
        exception switch
        {
            ValidationFailedException e => (400, "The request is invalid.", "See errors for each field.", [new("errors", e.Errors)]),
            BadHttpRequestException { InnerException: JsonException json } => (400, "The request body is not valid JSON for this operation.", JsonDetail(json), []),
            BadHttpRequestException { StatusCode: 400 } e when e.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
                || e.Message.StartsWith("Required parameter", StringComparison.Ordinal) =>
                (400, "The request body is missing.", "Send a JSON body as described in the API document (/openapi/v1.json).", []),
            BadHttpRequestException e => (e.StatusCode, Title(e.StatusCode), e.Message, []),
            IdempotencyKeyReusedException e => (422, "The Idempotency-Key was reused.", e.Message, []),
            IdempotencyKeyInFlightException e => (409, "The original request is still running.", e.Message, []),
            CommandRejectedException e => (409, "The request conflicts with the current state.", e.Message, [new("state", e.State)]),
            ConcurrencyException e => (409, "The resource is busy.", e.Message, []),
            VersionMismatchException e => (412, "The resource has changed.", $"If-Match named version {e.Expected}; the resource is at version {e.Actual}.", [new("currentETag", $"\"{e.Actual}\"")]),
            _ when StorageFailure.IsUnavailable(exception) => (503, "Storage is unavailable.", "WinterOps cannot reach its storage; nothing was changed. Retry shortly.", []),
            _ => (500, "An unexpected error occurred.", null, []),
        };

    private static string JsonDetail(JsonException e) =>
        e.Path is { Length: > 0 } path ? $"At {path}: {FirstSentence(e.Message)}" : FirstSentence(e.Message);

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }

    private static string Title(int status) => status switch
    {
        413 => "The request body is too large.",
        415 => "The content type is not supported; send application/json.",
        _ => "The request is invalid.",
    };

    [LoggerMessage(LogLevel.Error, "Unhandled error on {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, string path);

    [LoggerMessage(LogLevel.Warning, "Storage unavailable on {Method} {Path}")]
    private partial void LogStorageUnavailable(Exception exception, string method, string path);
}

/// <summary>ETags are the stream version, quoted (<c>"3"</c>); If-Match names the version a write expects.</summary>
public static class ETags
{
    public static string For(long version) => $"\"{version}\"";

    /// <summary>The version named by If-Match, or null when the header is absent.</summary>
    public static long? ExpectedVersion(HttpRequest request)
    {
        var header = request.Headers.IfMatch.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Length > 2 && value[0] == '"' && value[^1] == '"'
               && long.TryParse(value.AsSpan(1, value.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new ValidationFailedException(new Dictionary<string, string[]> { ["If-Match"] = ["Use the ETag from a previous response, e.g. \"3\"."] });
    }
}
