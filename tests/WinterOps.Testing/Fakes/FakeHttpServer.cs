using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WinterOps.Testing.Fakes;

/// <summary>One request exactly as a fake received it. Header names are case-insensitive; repeated values are joined with ", ".</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>An answer a test scripts: a status, and optionally a Retry-After header value and a JSON body.</summary>
public sealed record FakeAnswer(int Status, string? RetryAfter = null, string? Body = null);

/// <summary>
/// A tiny HTTP server on 127.0.0.1 and a free port (real Kestrel, real sockets) for fakes of external APIs.
/// Every request is recorded; answers scripted with <see cref="Enqueue"/> come first, in order, then
/// <c>answer</c> decides. Recording can be turned off (<see cref="Recording"/>) for benchmarks.
/// </summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<FakeAnswer> _script = new();

    private FakeHttpServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public bool Recording { get; set; } = true;

    /// <summary>The requests received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<FakeHttpServer> StartAsync(Func<RecordedRequest, FakeAnswer> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeHttpServer(app);
        app.Run(context => server.HandleAsync(context, answer));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Answers the next request with <paramref name="status"/> (before any default answer).</summary>
    public void Enqueue(int status, string? retryAfter = null, string? body = null) => _script.Enqueue(new FakeAnswer(status, retryAfter, body));

    public void Clear() => _requests.Clear();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, Func<RecordedRequest, FakeAnswer> answer)
    {
        using var reader = new StreamReader(context.Request.Body);
        var request = new RecordedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            await reader.ReadToEndAsync(context.RequestAborted));
        if (Recording)
        {
            _requests.Enqueue(request);
        }

        var reply = _script.TryDequeue(out var scripted) ? scripted : answer(request);
        context.Response.StatusCode = reply.Status;
        if (reply.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = reply.RetryAfter;
        }

        if (reply.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.Body, context.RequestAborted);
        }
    }
}
