using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

/// <summary>The channel on the real Service Bus SDK, sending to <see cref="FakeAmqpBroker"/> over loopback AMQP.</summary>
public sealed partial class ServiceBusChannelTests : IAsyncLifetime
{
    private FakeAmqpBroker _broker = null!;
    private ServiceBusClient _client = null!;

    public async Task InitializeAsync()
    {
        _broker = await FakeAmqpBroker.StartAsync("winterops-events");
        _client = Client(_broker);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _broker.DisposeAsync();
    }

    /// <summary>A client for <paramref name="broker"/> with the channel's options, as the app makes it (then <paramref name="adjust"/>).</summary>
    internal static ServiceBusClient Client(FakeAmqpBroker broker, Action<ServiceBusClientOptions>? adjust = null)
    {
        var options = new ServiceBusClientOptions();
        ServiceBusChannel.ClientOptions(options);
        adjust?.Invoke(options);
        return new ServiceBusClient(broker.ConnectionString, options);
    }

    [Fact]
    public async Task OneOrg_SendsOneCloudEvent_WithItsPropertiesAndBody()
    {
        await Channel().SendAsync(Sample.Offer(), default);

        var message = _broker.Messages.ShouldHaveSingleItem();
        _broker.Transfers.ShouldBe(1);
        _broker.Batches.ShouldBe(0); // one message: one plain send
        message.MessageId.ShouldBe("placement-P1.0000000002.0");
        message.Subject.ShouldBe("PlacementOffered");
        message.CorrelationId.ShouldBe("placement-P1");
        message.ContentType.ShouldBe("application/cloudevents+json");
        message.ApplicationProperties.ShouldBe(new Dictionary<string, object>
        {
            ["EventType"] = "PlacementOffered", ["TargetOrg"] = "1-8000000001", ["Severity"] = "Warning", ["Sector"] = "careHome", ["SchemaVersion"] = "1",
        }, ignoreOrder: true);

        using var body = JsonDocument.Parse(message.Body);
        var e = body.RootElement;
        e.EnumerateObject().Select(p => p.Name).ShouldBe(["specversion", "id", "source", "type", "data", "datacontenttype", "subject", "time"], ignoreOrder: true);
        e.GetProperty("specversion").GetString().ShouldBe("1.0");
        e.GetProperty("id").GetString().ShouldBe("placement-P1.0000000002.0");
        e.GetProperty("source").GetString().ShouldBe("/winterops/placement-P1");
        e.GetProperty("type").GetString().ShouldBe("uk.nhs.winterops.placement.offered");
        e.GetProperty("subject").GetString().ShouldBe("P1");
        e.GetProperty("datacontenttype").GetString().ShouldBe("application/json");
        ShouldBeUtcTime(e.GetProperty("time").GetString(), Sample.CreatedAt);
        e.GetProperty("time").GetString().ShouldBe("2026-01-12T09:30:00+00:00"); // Azure.Core's CloudEvent writes the offset, not Z
        e.GetProperty("data").GetRawText().ShouldBe(
            """{"title":"New placement offer: nursing bed, round 1","link":"/api/placements/P1","severity":"Warning","targetOrg":"1-8000000001","bedType":"nursing","pathway":"P3","placementId":"P1","requiredBy":"2026-01-14","sector":"careHome"}""");
    }

    [Fact]
    public async Task Time_IsTheCreatedAtInUtc_WhateverItsOffset()
    {
        var created = new DateTimeOffset(2026, 1, 12, 11, 30, 0, TimeSpan.FromHours(2)); // 09:30 UTC

        await Channel().SendAsync(Sample.Offer() with { CreatedAt = created }, default);

        using var body = JsonDocument.Parse(_broker.Messages.ShouldHaveSingleItem().Body);
        ShouldBeUtcTime(body.RootElement.GetProperty("time").GetString(), created);
        body.RootElement.GetProperty("time").GetString().ShouldBe("2026-01-12T09:30:00+00:00");
    }

    [Fact]
    public async Task RolesOnly_OneMessageForAllOrgs_WithoutSector()
    {
        await Channel().SendAsync(Sample.ToRoleOnly(), default);

        var message = _broker.Messages.ShouldHaveSingleItem();
        message.MessageId.ShouldBe("escalation-x.0000000003.0");
        message.Subject.ShouldBe("EscalationResolved");
        message.CorrelationId.ShouldBe("escalation-x");
        message.ApplicationProperties.ShouldBe(new Dictionary<string, object>
        {
            ["EventType"] = "EscalationResolved", ["TargetOrg"] = "ALL", ["Severity"] = "Info", ["SchemaVersion"] = "1",
        }, ignoreOrder: true);
        using var body = JsonDocument.Parse(message.Body);
        body.RootElement.GetProperty("id").GetString().ShouldBe("escalation-x.0000000003.0");
        body.RootElement.GetProperty("data").GetRawText().ShouldBe(
            """{"title":"Resolved","link":"/api/escalations/x","severity":"Info","targetOrg":"ALL","rule":"SystemLevel"}""");
    }

    [Fact]
    public async Task ManyOrgs_OneMessagePerOrg_SentInBatches()
    {
        await Channel().SendAsync(Sample.RoundNotice(150), default);

        var messages = _broker.Messages;
        messages.Select(m => m.MessageId).ShouldBe(Enumerable.Range(0, 150).Select(i => $"round-2026-01-12.0000000001.0:R{i:D3}"));
        messages.Select(m => m.ApplicationProperties["TargetOrg"]).ShouldBe(Enumerable.Range(0, 150).Select(i => (object)$"R{i:D3}"));
        _broker.Batches.ShouldBeGreaterThanOrEqualTo(1);
        _broker.Transfers.ShouldBeLessThan(150); // batched, not one send per message
        messages.ShouldAllBe(m => m.Subject == "OpelRoundOpened" && m.CorrelationId == "round-2026-01-12" && m.ContentType == "application/cloudevents+json");

        var first = messages[0];
        first.ApplicationProperties.ShouldBe(new Dictionary<string, object>
        {
            ["EventType"] = "OpelRoundOpened", ["TargetOrg"] = "R000", ["Severity"] = "Info", ["SchemaVersion"] = "1",
        }, ignoreOrder: true);
        using var cloudEvent = JsonDocument.Parse(first.Body);
        cloudEvent.RootElement.GetProperty("id").GetString().ShouldBe("round-2026-01-12.0000000001.0:R000");
        cloudEvent.RootElement.GetProperty("type").GetString().ShouldBe("uk.nhs.winterops.opel.round.opened");
        cloudEvent.RootElement.GetProperty("data").GetProperty("targetOrg").GetString().ShouldBe("R000");
        using var last = JsonDocument.Parse(messages[149].Body);
        last.RootElement.GetProperty("data").GetProperty("targetOrg").GetString().ShouldBe("R149");
    }

    [Fact]
    public async Task BigMessages_AreSplitIntoSeveralBatchesBelowTheMaxMessageSize()
    {
        await Channel().SendAsync(Sample.RoundNotice(100, padding: 4000), default);

        var messages = _broker.Messages;
        messages.Select(m => m.MessageId).Distinct().Count().ShouldBe(100);
        messages.Sum(m => m.Body.Length).ShouldBeGreaterThan(FakeAmqpBroker.MaxMessageSize); // no single transfer could carry them all
        _broker.Transfers.ShouldBeGreaterThan(1);
        _broker.Batches.ShouldBeGreaterThanOrEqualTo(1);
        _broker.Transfers.ShouldBeLessThan(100);
    }

    [Fact]
    public async Task OneMessageLargerThanTheTopicTakes_IsNotTransient_AndSendsNothing()
    {
        var channel = Channel();

        var single = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.RoundNotice(1, padding: 300 * 1024), default));
        var batched = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.RoundNotice(2, padding: 300 * 1024), default));

        single.Transient.ShouldBeFalse();
        single.InnerException.ShouldBeOfType<ServiceBusException>().Reason.ShouldBe(ServiceBusFailureReason.MessageSizeExceeded);
        batched.Transient.ShouldBeFalse();
        batched.Message.ShouldContain("round-2026-01-12.0000000001.0:R000");
        _broker.Transfers.ShouldBe(0);
        _broker.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task TransientFailureOnce_IsRetriedByTheSdk_AndDeliveredOnce()
    {
        _broker.FailNext("amqp:internal-error");

        await Channel().SendAsync(Sample.Offer(), default);

        _broker.Transfers.ShouldBe(2);
        _broker.Messages.ShouldHaveSingleItem().MessageId.ShouldBe("placement-P1.0000000002.0");
    }

    [Fact]
    public async Task TransientFailure_ThenTheDeliveryLoopsRetries_SameMessageId_OneMessageOnTheTopic()
    {
        var channel = Channel();
        _broker.FailNext("amqp:internal-error", times: 2); // the first try and the SDK's one retry

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.Offer(), default));
        failure.Transient.ShouldBeTrue();
        failure.InnerException.ShouldBeOfType<ServiceBusException>();
        _broker.Transfers.ShouldBe(2);
        _broker.Messages.ShouldBeEmpty();

        await channel.SendAsync(Sample.Offer(), default); // the delivery loop's retry
        await channel.SendAsync(Sample.Offer(), default); // a redelivery after a crash

        _broker.Transfers.ShouldBe(4);
        _broker.Messages.ShouldHaveSingleItem().MessageId.ShouldBe("placement-P1.0000000002.0");
    }

    [Fact]
    public async Task SecondBatchFails_RetryResendsAll_TopicKeepsOneOfEach()
    {
        var notice = Sample.RoundNotice(100, padding: 4000); // several batches
        var failing = new FailingLaterBatch(_client.CreateSender(_broker.Entity), failBatch: 2, () => _broker.FailNext("amqp:internal-error", times: 2));
        var channel = new ServiceBusChannel(failing, NullLogger<ServiceBusChannel>.Instance);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(notice, default));

        failure.Transient.ShouldBeTrue();
        var firstBatch = _broker.Messages.Count;
        firstBatch.ShouldBeInRange(2, 99); // the first batch arrived, the second did not
        var transfersBefore = _broker.Transfers;

        await Channel().SendAsync(notice, default);

        var messages = _broker.Messages;
        messages.Count.ShouldBe(100);
        messages.Select(m => m.MessageId).ShouldBe(Enumerable.Range(0, 100).Select(i => $"round-2026-01-12.0000000001.0:R{i:D3}"));
        (_broker.Transfers - transfersBefore).ShouldBeGreaterThan(1); // the retry sent the first batch again too: dropped as duplicates
    }

    [Theory]
    [InlineData("amqp:not-found", ServiceBusFailureReason.MessagingEntityNotFound)]
    [InlineData("amqp:resource-limit-exceeded", ServiceBusFailureReason.QuotaExceeded)]
    [InlineData("amqp:link:message-size-exceeded", ServiceBusFailureReason.MessageSizeExceeded)]
    public async Task Refused_IsNotTransient_NotRetried_AndStoresNothing(string condition, ServiceBusFailureReason reason)
    {
        _broker.FailNext(condition);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeFalse();
        failure.InnerException.ShouldBeOfType<ServiceBusException>().Reason.ShouldBe(reason);
        _broker.Transfers.ShouldBe(1);
        _broker.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task TopicThatDoesNotExist_IsNotTransient()
    {
        var channel = new ServiceBusChannel(_client.CreateSender("no-such-topic"), NullLogger<ServiceBusChannel>.Instance);

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeFalse();
        failure.InnerException.ShouldBeOfType<ServiceBusException>().Reason.ShouldBe(ServiceBusFailureReason.MessagingEntityNotFound);
        _broker.Transfers.ShouldBe(0);
    }

    [Fact]
    public async Task ServerBusy_IsTransient()
    {
        // No SDK retry: after server-busy the SDK sleeps 10 s before trying again.
        await using var client = Client(_broker, o => o.RetryOptions.MaxRetries = 0);
        var channel = new ServiceBusChannel(client.CreateSender(_broker.Entity), NullLogger<ServiceBusChannel>.Instance);
        _broker.FailNext("com.microsoft:server-busy");

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.Offer(), default));

        failure.Transient.ShouldBeTrue();
        failure.InnerException.ShouldBeOfType<ServiceBusException>().Reason.ShouldBe(ServiceBusFailureReason.ServiceBusy);
        _broker.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task BrokerDown_IsTransient_ThenAfterRestartTheSameChannelDelivers()
    {
        var channel = Channel();
        await channel.SendAsync(Sample.Offer("o-1"), default);
        await _broker.StopAsync();

        var failure = await Should.ThrowAsync<DeliveryFailedException>(() => channel.SendAsync(Sample.Offer("o-2"), default));
        failure.Transient.ShouldBeTrue();

        await _broker.RestartAsync();
        await channel.SendAsync(Sample.Offer("o-2"), default);
        _broker.Messages.Select(m => m.MessageId).ShouldBe(["o-1", "o-2"]);
    }

    [Fact]
    public async Task Unconfigured_IsOff_AndSendsNothing()
    {
        var channel = new ServiceBusChannel(null, NullLogger<ServiceBusChannel>.Instance);

        channel.Name.ShouldBe("servicebus");
        channel.Enabled.ShouldBeFalse();
        Channel().Enabled.ShouldBeTrue();
        await channel.SendAsync(Sample.Offer(), default);
        await channel.SendAsync(Sample.RoundNotice(3), default);
        _broker.Transfers.ShouldBe(0);
        _broker.Messages.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("PlacementOffered", "uk.nhs.winterops.placement.offered")]
    [InlineData("EscalationAlert", "uk.nhs.winterops.escalation.alert")]
    [InlineData("PlacementOfferDeclined", "uk.nhs.winterops.placement.offer.declined")]
    [InlineData("OPELReturnDue", "uk.nhs.winterops.opel.return.due")]
    [InlineData("Reminder", "uk.nhs.winterops.reminder")]
    public void CloudEventType_SplitsPascalCaseWords(string type, string expected) => CloudEvents.TypeFor(type).ShouldBe(expected);

    private ServiceBusChannel Channel() => new(_client.CreateSender(_broker.Entity), NullLogger<ServiceBusChannel>.Instance);

    /// <summary>A valid RFC 3339 date-time in UTC (Z or +00:00), the instant <paramref name="expected"/>.</summary>
    private static void ShouldBeUtcTime(string? time, DateTimeOffset expected)
    {
        time.ShouldNotBeNull();
        Rfc3339().IsMatch(time).ShouldBeTrue($"{time} is not an RFC 3339 UTC date-time");
        var parsed = DateTimeOffset.Parse(time, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        parsed.Offset.ShouldBe(TimeSpan.Zero);
        parsed.ShouldBe(expected);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")]
    private static partial Regex Rfc3339();

    /// <summary>
    /// The real sender, which before its <c>failBatch</c>-th batch send arms the broker (<c>arm</c>, e.g. FailNext):
    /// the fake's failures hit the next transfers, so this is how a later batch, not the first, fails on the wire.
    /// (Not disposed itself: the mocking base has no connection; the client closes the inner sender.)
    /// </summary>
    private sealed class FailingLaterBatch(ServiceBusSender inner, int failBatch, Action arm) : ServiceBusSender
    {
        private int _batches;

        public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default) =>
            inner.CreateMessageBatchAsync(cancellationToken);

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default) =>
            inner.SendMessageAsync(message, cancellationToken);

        public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _batches) == failBatch)
            {
                arm();
            }

            return inner.SendMessagesAsync(messageBatch, cancellationToken);
        }
    }
}
