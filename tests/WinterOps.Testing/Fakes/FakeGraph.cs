using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;

namespace WinterOps.Testing.Fakes;

/// <summary>
/// An in-process fake of the two Microsoft Graph activity-notification actions: <c>POST
/// /v1.0/users/{id}/teamwork/sendActivityNotification</c> (204) and <c>POST
/// /v1.0/teamwork/sendActivityNotificationToRecipients</c> (202). Requests without <c>Bearer {Token}</c>
/// get 401. Scripted failures (<see cref="Enqueue"/>) answer with an OData error body, as Graph does.
/// </summary>
public sealed class FakeGraph : IAsyncDisposable
{
    public const string Token = "graph-test-token";

    private FakeHttpServer _server = null!;

    private FakeGraph()
    {
    }

    /// <summary>What to put in the channel's GraphBaseUrl setting.</summary>
    public string BaseUrl => new Uri(_server.BaseAddress, "v1.0").ToString();

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    /// <summary>An auth provider that adds <c>Bearer {Token}</c>, in place of an Entra credential.</summary>
    public static IAuthenticationProvider Authentication { get; } = new BearerProvider();

    public static async Task<FakeGraph> StartAsync()
    {
        var graph = new FakeGraph();
        graph._server = await FakeHttpServer.StartAsync(Answer);
        return graph;
    }

    /// <summary>Answers the next request with <paramref name="status"/> and an OData error.</summary>
    public void Enqueue(int status, string? retryAfter = null) =>
        _server.Enqueue(status, retryAfter, $$$"""{"error":{"code":"Status{{{status}}}","message":"Scripted by the test."}}""");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static FakeAnswer Answer(RecordedRequest request)
    {
        if (request.Header("Authorization") != $"Bearer {Token}")
        {
            return new FakeAnswer(401, Body: """{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}""");
        }

        var path = request.PathAndQuery.Split('?')[0];
        return request.Method != "POST" ? new FakeAnswer(405)
            : path.StartsWith("/v1.0/users/", StringComparison.Ordinal) && path.EndsWith("/teamwork/sendActivityNotification", StringComparison.Ordinal) ? new FakeAnswer(204)
            : path == "/v1.0/teamwork/sendActivityNotificationToRecipients" ? new FakeAnswer(202)
            : new FakeAnswer(404, Body: """{"error":{"code":"UnknownError","message":"No such action."}}""");
    }

    private sealed class BearerProvider : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
        {
            request.Headers.Add("Authorization", $"Bearer {Token}");
            return Task.CompletedTask;
        }
    }
}
