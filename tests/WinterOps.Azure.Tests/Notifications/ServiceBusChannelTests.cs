using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WinterOps.Azure.Notifications;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

public sealed class ServiceBusChannelTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private static readonly HttpClient Http = new() { Timeout = ChannelHttp.RequestTimeout };
    private FakeServiceBus _bus = null!;

    public async Task InitializeAsync() => _bus = await FakeServiceBus.StartAsync(time: _time);

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    [Fact]
    public async Task OneOrg_PostsOneCloudEvent_WithSasBrokerPropertiesAndCustomPropertyHeaders()
    {
        await Channel().SendAsync(Sample.Offer(), default);

        var request = _bus.Requests.ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        request.PathAndQuery.ShouldBe("/winterops-events/messages?timeout=60");
        request.Header("Authorization")!.ShouldStartWith("SharedAccessSignature sr=https%3A%2F%2Fwinterops-test.servicebus.windows.net%2Fwinterops-events&sig=");
        request.Header("Authorization")!.ShouldEndWith($"&se={_time.GetUtcNow().AddHours(1).ToUnixTimeSeconds()}&skn=winterops-send");
        _bus.SasProblem(request.Header("Authorization")).ShouldBeNull();
        request.Header("Content-Type").ShouldBe("application/cloudevents+json; charset=utf-8");
        request.Header("BrokerProperties").ShouldBe("""{"MessageId":"placement-P1.0000000002.0","CorrelationId":"placement-P1","Label":"PlacementOffered"}""");
        request.Header("EventType").ShouldBe("\"PlacementOffered\"");
        request.Header("TargetOrg").ShouldBe("\"1-8000000001\"");
        request.Header("Severity").ShouldBe("\"Warning\"");
        request.Header("Sector").ShouldBe("\"careHome\"");

        using var body = JsonDocument.Parse(request.Body);
        var e = body.RootElement;
        e.GetProperty("specversion").GetString().ShouldBe("1.0");
        e.GetProperty("id").GetString().ShouldBe("placement-P1.0000000002.0");
        e.GetProperty("source").GetString().ShouldBe("/winterops/placement-P1");
        e.GetProperty("type").GetString().ShouldBe("uk.nhs.winterops.placement.offered");
        e.GetProperty("subject").GetString().ShouldBe("P1");
        e.GetProperty("time").GetString().ShouldBe("2026-01-12T09:30:00.0000000Z");
        e.GetProperty("datacontenttype").GetString().ShouldBe("application/json");
        e.GetProperty("data").GetRawText().ShouldBe(
            """{"title":"New placement offer: nursing bed, round 1","link":"/api/placements/P1","severity":"Warning","targetOrg":"1-8000000001","bedType":"nursing","pathway":"P3","placementId":"P1","requiredBy":"2026-01-14","sector":"careHome"}""");

        var message = _bus.Messages.ShouldHaveSingleItem();
        message.MessageId.ShouldBe("placement-P1.0000000002.0");
        message.Label.ShouldBe("PlacementOffered");
        message.CorrelationId.ShouldBe("placement-P1");
        message.UserProperties.ShouldBe(new Dictionary<string, string>
        {
            ["EventType"] = "PlacementOffered", ["TargetOrg"] = "1-8000000001", ["Severity"] = "Warning", ["Sector"] = "careHome",
        }, ignoreOrder: true);
    }

    [Fact]
    public async Task RolesOnly_OneMessageForAllOrgs_WithoutSector()
    {
        await Channel().SendAsync(Sample.ToRoleOnly(), default);

        var message = _bus.Messages.ShouldHaveSingleItem();
        message.MessageId.ShouldBe("escalation-x.0000000003.0");
        message.UserProperties["TargetOrg"].ShouldBe("ALL");
        message.UserProperties["Severity"].ShouldBe("Info");
        message.UserProperties.ContainsKey("Sector").ShouldBeFalse();
    }

    [Fact]
    public async Task SasToken_IsReused_ThenRenewedBeforeItExpires()
    {
        var channel = Channel();
        await channel.SendAsync(Sample.Offer("o-1"), default);
        _time.Advance(TimeSpan.FromMinutes(50));
        await channel.SendAsync(Sample.Offer("o-2"), default);
        _time.Advance(TimeSpan.FromMinutes(6)); // 4 minutes left: renewed
        await channel.SendAsync(Sample.Offer("o-3"), default);

        var tokens = _bus.Requests.Select(r => r.Header("Authorization")).ToList();
        tokens[1].ShouldBe(tokens[0]);
        tokens[2].ShouldNotBe(tokens[0]);
        tokens[2]!.ShouldEndWith($"&se={_time.GetUtcNow().AddHours(1).ToUnixTimeSeconds()}&skn=winterops-send");
        _bus.Messages.Count.ShouldBe(3); // all three tokens were valid when used
    }

    [Fact]
    public async Task WrongKey_Is401_AndNotTransient()
    {
        var wrong = _bus.ConnectionString.Replace(_bus.Key, Convert.ToBase64String(new byte[32]), StringComparison.Ordinal);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => Channel(new ServiceBusOptions { ConnectionString = wrong }).SendAsync(Sample.Offer(), default));

        failure.Status.ShouldBe(401);
        failure.Transient.ShouldBeFalse();
        _bus.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task WithoutConnectionString_SendsAnEntraBearerToken_ForTheServiceBusScope()
    {
        await using var bus = await FakeServiceBus.StartAsync(bearerToken: "entra-test-token");
        var credential = new FakeCredential("entra-test-token");
        var channel = new ServiceBusChannel(
            new ServiceBusOptions { FullyQualifiedNamespace = FakeServiceBus.Namespace, BaseUrl = bus.BaseAddress.ToString() },
            Http, _time, NullLogger<ServiceBusChannel>.Instance, credential);

        await channel.SendAsync(Sample.Offer(), default);

        bus.Requests.ShouldHaveSingleItem().Header("Authorization").ShouldBe("Bearer entra-test-token");
        credential.Scopes.ShouldBe(["https://servicebus.azure.net/.default"]);
        bus.Messages.Count.ShouldBe(1);
    }

    [Fact]
    public async Task ManyOrgs_GoInBatchesOfAtMost100_OneMessagePerOrg()
    {
        await Channel().SendAsync(Sample.RoundNotice(150), default);

        _bus.Requests.Count.ShouldBe(2);
        foreach (var request in _bus.Requests)
        {
            request.PathAndQuery.ShouldBe("/winterops-events/messages?timeout=60");
            request.Header("Content-Type").ShouldBe("application/vnd.microsoft.servicebus.json; charset=utf-8");
            request.Header("BrokerProperties").ShouldBeNull();
            _bus.SasProblem(request.Header("Authorization")).ShouldBeNull();
        }

        using (var first = JsonDocument.Parse(_bus.Requests[0].Body))
        {
            first.RootElement.GetArrayLength().ShouldBe(100);
            var item = first.RootElement[0];
            item.GetProperty("BrokerProperties").GetRawText().ShouldBe(
                """{"MessageId":"round-2026-01-12.0000000001.0:R000","CorrelationId":"round-2026-01-12","Label":"OpelRoundOpened"}""");
            item.GetProperty("UserProperties").GetRawText().ShouldBe("""{"EventType":"OpelRoundOpened","TargetOrg":"R000","Severity":"Info"}""");
            using var cloudEvent = JsonDocument.Parse(item.GetProperty("Body").GetString()!);
            cloudEvent.RootElement.GetProperty("id").GetString().ShouldBe("round-2026-01-12.0000000001.0:R000");
            cloudEvent.RootElement.GetProperty("type").GetString().ShouldBe("uk.nhs.winterops.opel.round.opened");
            cloudEvent.RootElement.GetProperty("data").GetProperty("targetOrg").GetString().ShouldBe("R000");
        }

        JsonDocument.Parse(_bus.Requests[1].Body).RootElement.GetArrayLength().ShouldBe(50);
        _bus.Messages.Select(m => m.UserProperties["TargetOrg"]).ShouldBe(Enumerable.Range(0, 150).Select(i => $"R{i:D3}"));
        _bus.Messages.Select(m => m.MessageId).Distinct().Count().ShouldBe(150);
    }

    [Fact]
    public async Task BigMessages_AreSplitBelow256KB()
    {
        await Channel().SendAsync(Sample.RoundNotice(100, padding: 4000), default);

        _bus.Requests.Count.ShouldBeGreaterThan(1);
        _bus.Requests.ShouldAllBe(r => r.Body.Length < 256 * 1024);
        _bus.Messages.Count.ShouldBe(100);
    }

    [Fact]
    public async Task Unavailable_ThenAccepted_SameMessageIdBothTimes_OneMessageAtTheReceiver()
    {
        var channel = Channel();
        _bus.Enqueue(503);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.Offer(), default));
        failure.Transient.ShouldBeTrue();
        failure.Status.ShouldBe(503);
        await channel.SendAsync(Sample.Offer(), default); // the delivery loop's retry
        await channel.SendAsync(Sample.Offer(), default); // a redelivery after a crash

        _bus.Requests.Select(r => r.Header("BrokerProperties")).Distinct().ShouldHaveSingleItem()!.ShouldContain("\"MessageId\":\"placement-P1.0000000002.0\"");
        _bus.Messages.ShouldHaveSingleItem();
        _bus.Duplicates.ShouldBe(1);
    }

    [Fact]
    public async Task SecondBatchFails_RetryResendsBoth_TopicKeepsOneOfEach()
    {
        var channel = Channel();
        _bus.Enqueue(201);
        _bus.Enqueue(500);

        await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.RoundNotice(150), default));
        await channel.SendAsync(Sample.RoundNotice(150), default);

        _bus.Messages.Count.ShouldBe(150);
    }

    [Fact]
    public async Task Throttled_CarriesRetryAfterSeconds()
    {
        _bus.Enqueue(429, "7");

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeTrue();
        failure.Status.ShouldBe(429);
        failure.RetryAfter.ShouldBe(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Unavailable_CarriesRetryAfterDate()
    {
        _bus.Enqueue(503, _time.GetUtcNow().AddSeconds(90).ToString("R", System.Globalization.CultureInfo.InvariantCulture));

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Sample.Offer(), default));

        failure.RetryAfter!.Value.TotalSeconds.ShouldBeInRange(89, 90);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(413)]
    public async Task ClientErrors_AreNotTransient(int status)
    {
        _bus.Enqueue(status);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeFalse();
        failure.Status.ShouldBe(status);
    }

    [Fact]
    public async Task NoAnswer_IsTransient()
    {
        var closed = new Uri(_bus.BaseAddress, "/");
        await _bus.DisposeAsync();

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() =>
            Channel(new ServiceBusOptions { ConnectionString = _bus.ConnectionString, BaseUrl = closed.ToString() }).SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeTrue();
        failure.Status.ShouldBeNull();
        _bus = await FakeServiceBus.StartAsync(time: _time); // for DisposeAsync
    }

    [Fact]
    public async Task Unconfigured_IsOff_AndSendsNothing()
    {
        var channel = Channel(new ServiceBusOptions());

        channel.Enabled.ShouldBeFalse();
        await channel.SendAsync(Sample.Offer(), default);
        _bus.Requests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("http://sb.example.org", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    [InlineData("ftp://127.0.0.1", false)]
    [InlineData("https://sb.example.org", true)]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    public void BaseUrl_PlainHttpOnlyForLoopback(string baseUrl, bool accepted)
    {
        var create = () => Channel(new ServiceBusOptions { ConnectionString = _bus.ConnectionString, BaseUrl = baseUrl });

        if (accepted)
        {
            create().Endpoint!.AbsolutePath.ShouldBe("/winterops-events/messages");
        }
        else
        {
            create.ShouldThrow<InvalidOperationException>().Message.ShouldContain("Notifications:ServiceBus:BaseUrl");
        }
    }

    [Fact]
    public void WithoutBaseUrl_PostsToTheNamespaceOverHttps()
    {
        Endpoint(new ServiceBusOptions { ConnectionString = _bus.ConnectionString })
            .ShouldBe(new Uri("https://winterops-test.servicebus.windows.net/winterops-events/messages?timeout=60"));
        Endpoint(new ServiceBusOptions { FullyQualifiedNamespace = "ns.servicebus.windows.net", TopicName = "" }) // an empty setting: the default
            .ShouldBe(new Uri("https://ns.servicebus.windows.net/winterops-events/messages?timeout=60"));
        Endpoint(new ServiceBusOptions { FullyQualifiedNamespace = "ns.servicebus.windows.net", TopicName = "t" })
            .ShouldBe(new Uri("https://ns.servicebus.windows.net/t/messages?timeout=60"));

        static Uri? Endpoint(ServiceBusOptions options) =>
            new ServiceBusChannel(options, Http, TimeProvider.System, NullLogger<ServiceBusChannel>.Instance, new FakeCredential("unused")).Endpoint;
    }

    [Fact]
    public void BadConnectionString_FailsAtStartUp() =>
        Should.Throw<InvalidOperationException>(() => Channel(new ServiceBusOptions { ConnectionString = "Endpoint=https://x;SharedAccessKey=k" }))
            .Message.ShouldContain("ConnectionString");

    [Theory]
    [InlineData("PlacementOffered", "uk.nhs.winterops.placement.offered")]
    [InlineData("EscalationAlert", "uk.nhs.winterops.escalation.alert")]
    [InlineData("PlacementOfferDeclined", "uk.nhs.winterops.placement.offer.declined")]
    [InlineData("OPELReturnDue", "uk.nhs.winterops.opel.return.due")]
    [InlineData("Reminder", "uk.nhs.winterops.reminder")]
    public void CloudEventType_SplitsPascalCaseWords(string type, string expected) => CloudEvents.TypeFor(type).ShouldBe(expected);

    private ServiceBusChannel Channel(ServiceBusOptions? options = null)
    {
        options ??= new ServiceBusOptions { ConnectionString = _bus.ConnectionString };
        options.BaseUrl ??= _bus.BaseAddress.ToString();
        return new ServiceBusChannel(options, Http, _time, NullLogger<ServiceBusChannel>.Instance, new FakeCredential("unused"));
    }
}
