namespace WinterOps.Testing.Fakes;

/// <summary>A fake Teams Workflows webhook: records every post and answers 202, or what the test scripts.</summary>
public sealed class FakeWebhook : IAsyncDisposable
{
    private FakeHttpServer _server = null!;

    private FakeWebhook()
    {
    }

    public string Url => new Uri(_server.BaseAddress, "workflows/winterops?sig=test").ToString();

    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    public static async Task<FakeWebhook> StartAsync()
    {
        var webhook = new FakeWebhook();
        webhook._server = await FakeHttpServer.StartAsync(_ => new FakeAnswer(202));
        return webhook;
    }

    public void Enqueue(int status, string? retryAfter = null) => _server.Enqueue(status, retryAfter);

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
