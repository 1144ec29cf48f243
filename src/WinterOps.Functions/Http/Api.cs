using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.DurableTask.Client;

namespace WinterOps.Functions.Http;

/// <summary>Who may call an HTTP function.</summary>
public sealed record Access(bool SignedIn, IReadOnlyList<string> Roles, bool DevelopmentOnly = false)
{
    public static Access Anonymous { get; } = new(false, []);

    /// <summary>Any signed-in caller; the handler scopes what it shows by organisation.</summary>
    public static Access AnyCaller { get; } = new(true, []);

    public static Access For(params string[] roles) => new(true, roles);

    /// <summary>Exists only in the Development environment: 404 anywhere else, before anything is read.</summary>
    public Access InDevelopmentOnly() => this with { DevelopmentOnly = true };
}

/// <summary>
/// The one request pipeline every HTTP function runs, in Azure and in the local host alike, so both
/// behave the same by construction: problem+json for every failure (never a 500 for bad input), the
/// body size limit (413), the bearer token and roles (401/403), <c>Idempotency-Key</c>, then the
/// handler. Handlers are minimal-API style delegates (route values, a JSON body, services and the
/// <see cref="HttpContext"/> as parameters), bound by ASP.NET Core's own <see cref="RequestDelegateFactory"/>.
/// </summary>
public static class Api
{
    /// <summary>Largest request body accepted (413 above). Free-text limits inside bodies are smaller.</summary>
    public const long MaxRequestBodyBytes = 512 * 1024;

    private static readonly ConcurrentDictionary<(MethodInfo, bool), RequestDelegate> Handlers = new();

    /// <summary>Runs <paramref name="handler"/> for <paramref name="request"/> and writes the whole response.</summary>
    /// <remarks>
    /// The binding is compiled once per handler method and reused, so handlers capture nothing: a function's
    /// <c>[DurableClient]</c> is passed as <paramref name="durableClient"/> and read by the handler with
    /// <see cref="DurableClient"/>.
    /// </remarks>
    public static async Task RunAsync(HttpRequest request, Access access, Delegate handler, DurableTaskClient? durableClient = null)
    {
        var http = request.HttpContext;
        if (durableClient is not null)
        {
            http.Features.Set(durableClient);
        }

        try
        {
            if (access.DevelopmentOnly && !http.RequestServices.GetRequiredService<IHostEnvironment>().IsDevelopment())
            {
                await WriteStatusAsync(http, StatusCodes.Status404NotFound);
                return;
            }

            // Authorised before the body is read: a caller without a token gets 401, never 413, and no body is buffered for it.
            if (!await AuthorizeAsync(http, access))
            {
                return;
            }

            await BufferBodyAsync(request);

            var run = Handlers.GetOrAdd((handler.Method, !HttpMethods.IsGet(request.Method)), key => Bind(handler, http.RequestServices, key.Item2));
            await http.RequestServices.GetRequiredService<Idempotency>().RunAsync(http, () => run(http));
            if (http.Response.StatusCode >= 400 && !http.Response.HasStarted && http.Response.ContentType is null)
            {
                await WriteStatusAsync(http, http.Response.StatusCode);
            }
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            http.Response.Clear();
            await http.RequestServices.GetRequiredService<ProblemExceptionHandler>().TryHandleAsync(http, e, http.RequestAborted);
        }
    }

    /// <summary>The function's <c>[DurableClient]</c>, as passed to <see cref="RunAsync"/> (it is not a DI service in Azure).</summary>
    public static DurableTaskClient DurableClient(this HttpContext http) =>
        http.Features.Get<DurableTaskClient>() ?? throw new InvalidOperationException("The function passed no [DurableClient] to Api.RunAsync.");

    private static RequestDelegate Bind(Delegate handler, IServiceProvider services, bool inferBody) =>
        RequestDelegateFactory.Create(handler, new RequestDelegateFactoryOptions
        {
            ServiceProvider = services,
            ThrowOnBadRequest = true, // bad input becomes BadHttpRequestException, mapped to a clear 400/415
            DisableInferBodyFromParameters = !inferBody,
        }).RequestDelegate;

    /// <summary>
    /// Reads the body into memory, at most <see cref="MaxRequestBodyBytes"/>: the limit holds whichever server
    /// carried the request, and idempotency can hash the body before the handler reads it.
    /// </summary>
    private static async Task BufferBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxRequestBodyBytes)
        {
            throw new BadHttpRequestException("The request body is larger than 512 KiB.", StatusCodes.Status413PayloadTooLarge);
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxRequestBodyBytes)
            {
                throw new BadHttpRequestException("The request body is larger than 512 KiB.", StatusCodes.Status413PayloadTooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        request.Body = buffer;
        request.HttpContext.Response.RegisterForDispose(buffer);
    }

    /// <summary>Validates the bearer token (if any) and the caller's roles: 401 without a valid token, 403 without a role the function accepts.</summary>
    private static async Task<bool> AuthorizeAsync(HttpContext http, Access access)
    {
        var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (result.Succeeded)
        {
            http.User = result.Principal;
        }

        if (!access.SignedIn)
        {
            return true;
        }

        if (!result.Succeeded)
        {
            await http.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme);
            await WriteStatusAsync(http, StatusCodes.Status401Unauthorized);
            return false;
        }

        if (access.Roles.Count > 0 && !access.Roles.Any(http.User.IsInRole))
        {
            await WriteStatusAsync(http, StatusCodes.Status403Forbidden);
            return false;
        }

        return true;
    }

    /// <summary>A problem+json body for a bare status, as ASP.NET Core's status code pages write it.</summary>
    /// <remarks>A client whose Accept rules out JSON gets plain text, as status code pages write it, never a 500.</remarks>
    public static async Task WriteStatusAsync(HttpContext http, int status)
    {
        http.Response.StatusCode = status;
        var written = await http.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status },
        });
        if (!written)
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync($"Status Code: {status}; {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}");
        }
    }

    /// <summary>
    /// Reads until <paramref name="done"/> or <paramref name="limit"/> (a person waiting for an orchestration's decision):
    /// the table row, not Durable's own status, which the Azure Storage provider polls every 2 s.
    /// </summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan limit, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + limit;
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow >= until)
            {
                return value;
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 200));
        }
    }
}
