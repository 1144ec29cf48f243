using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WinterOps.Azure.Notifications;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

public sealed class TeamsChannelTests : IAsyncLifetime
{
    private const string TopicJson =
        """{"source":"text","value":"New placement offer: nursing bed, round 1","webUrl":"https://winterops.example.nhs.uk/api/placements/P1"}""";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private FakeGraph _graph = null!;
    private TeamsChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _channel = Channel();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _graph.DisposeAsync();
    }

    [Fact]
    public async Task OnePerson_OneCallToTheirActivityFeed()
    {
        await _channel.SendAsync(Sample.Offer(people: ["11111111-1111-1111-1111-111111111111"]), default);

        var request = _graph.Requests.ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        request.PathAndQuery.ShouldBe("/v1.0/users/11111111-1111-1111-1111-111111111111/teamwork/sendActivityNotification");
        request.Header("Authorization").ShouldBe($"Bearer {FakeGraph.Token}");
        request.Header("Content-Type")!.ShouldStartWith("application/json");
        SameJson(request.Body,
            $$"""
            {"topic":{{TopicJson}},"activityType":"systemDefault","previewText":{"content":"New placement offer: nursing bed, round 1"},
             "templateParameters":[{"name":"systemDefaultText","value":"New placement offer: nursing bed, round 1"}]}
            """);
    }

    [Fact]
    public async Task ManyPeople_BulkCallsOf100Recipients()
    {
        var people = Enumerable.Range(0, 150).Select(i => $"00000000-0000-0000-0000-{i:D12}").ToList();

        await _channel.SendAsync(Sample.Offer(people: people), default);

        _graph.Requests.Count.ShouldBe(2);
        _graph.Requests.ShouldAllBe(r => r.PathAndQuery == "/v1.0/teamwork/sendActivityNotificationToRecipients" && r.Header("Authorization") == $"Bearer {FakeGraph.Token}");
        var bodies = _graph.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        var recipients = bodies.Select(b => b.GetProperty("recipients").EnumerateArray().ToList()).ToList();
        recipients.Select(r => r.Count).ShouldBe([100, 50]);
        recipients.SelectMany(r => r).Select(r => r.GetProperty("userId").GetString()).ShouldBe(people);
        recipients[0][0].GetProperty("@odata.type").GetString().ShouldBe("#microsoft.graph.aadUserNotificationRecipient");
        bodies.ShouldAllBe(b => b.GetProperty("topic").GetRawText() == bodies[0].GetProperty("topic").GetRawText());
        SameJson(bodies[1].GetProperty("topic").GetRawText(), TopicJson);
        bodies[1].GetProperty("activityType").GetString().ShouldBe("systemDefault");
        bodies[1].GetProperty("templateParameters")[0].GetProperty("name").GetString().ShouldBe("systemDefaultText");
    }

    [Fact]
    public async Task NoPeople_NothingToDo()
    {
        await _channel.SendAsync(Sample.Offer(people: []), default);

        _graph.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task Throttled_IsTransientWithRetryAfter_AndTheSdkDoesNotRetry()
    {
        _graph.Enqueue(429, "12");

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => _channel.SendAsync(Sample.Offer(people: ["u1"]), default));

        failure.Transient.ShouldBeTrue();
        failure.Status.ShouldBe(429);
        failure.RetryAfter.ShouldBe(TimeSpan.FromSeconds(12));
        _graph.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Unavailable_IsTransient_OneRequestOnly()
    {
        _graph.Enqueue(503);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => _channel.SendAsync(Sample.Offer(people: ["u1", "u2"]), default));

        failure.Transient.ShouldBeTrue();
        failure.Status.ShouldBe(503);
        failure.RetryAfter.ShouldBeNull();
        _graph.Requests.Count.ShouldBe(1);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    public async Task ClientErrors_AreNotTransient(int status)
    {
        _graph.Enqueue(status);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => _channel.SendAsync(Sample.Offer(people: ["u1"]), default));

        failure.Transient.ShouldBeFalse();
        failure.Status.ShouldBe(status);
    }

    [Fact]
    public async Task WithATeamsAppId_TheTargetIsADeepLinkToTheAppsTab()
    {
        using var channel = Channel(o => o.AppId = "5b1c7c1e-0000-4000-8000-000000000001");

        await channel.SendAsync(Sample.Offer(people: ["u1"]), default);

        JsonDocument.Parse(_graph.Requests.ShouldHaveSingleItem().Body).RootElement.GetProperty("topic").GetProperty("webUrl").GetString().ShouldBe(
            "https://teams.microsoft.com/l/entity/5b1c7c1e-0000-4000-8000-000000000001/winterops" +
            "?webUrl=https%3A%2F%2Fwinterops.example.nhs.uk%2Fapi%2Fplacements%2FP1&context=%7B%22subEntityId%22%3A%22%2Fapi%2Fplacements%2FP1%22%7D");
    }

    [Fact]
    public void Settings_OffWithoutTenantAndClient_AndLinkBaseRequiredWhenOn()
    {
        using var off = new TeamsChannel(new TeamsOptions(), _time, NullLogger<TeamsChannel>.Instance);
        off.Enabled.ShouldBeFalse();
        _channel.Enabled.ShouldBeTrue();
        Should.Throw<InvalidOperationException>(() => Channel(o => o.LinkBaseUrl = null)).Message.ShouldContain("LinkBaseUrl");
        Should.Throw<InvalidOperationException>(() => Channel(o => o.GraphBaseUrl = "http://graph.example.org/v1.0")).Message.ShouldContain("GraphBaseUrl");
    }

    private TeamsChannel Channel(Action<TeamsOptions>? change = null)
    {
        var options = new TeamsOptions
        {
            TenantId = "00000000-0000-0000-0000-00000000000a",
            ClientId = "00000000-0000-0000-0000-00000000000b",
            GraphBaseUrl = _graph.BaseUrl,
            LinkBaseUrl = "https://winterops.example.nhs.uk",
        };
        change?.Invoke(options);
        return new TeamsChannel(options, _time, NullLogger<TeamsChannel>.Instance, FakeGraph.Authentication);
    }

    /// <summary>The same JSON, whatever the order of properties (the SDK writes them alphabetically).</summary>
    private static void SameJson(string actual, string expected) =>
        JsonNode.DeepEquals(JsonNode.Parse(actual), JsonNode.Parse(expected)).ShouldBeTrue($"sent {actual}");
}
