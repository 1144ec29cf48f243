using System.Text;
using Azure.Messaging.ServiceBus;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

/// <summary>The fake broker, driven by the real Service Bus SDK over loopback AMQP.</summary>
public sealed class FakeAmqpBrokerTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private FakeAmqpBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await FakeAmqpBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task OneMessage_ArrivesWithItsPropertiesAndBody()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        var sent = Message("m-1", "PlacementOffered");
        sent.CorrelationId = "placement-P1";
        sent.ApplicationProperties["TargetOrg"] = "1-8000000001";
        sent.ApplicationProperties["Round"] = 2;

        await sender.SendMessageAsync(sent);

        var message = (await _broker.WaitForAsync(1, Wait)).ShouldHaveSingleItem();
        message.MessageId.ShouldBe("m-1");
        message.Subject.ShouldBe("PlacementOffered");
        message.ContentType.ShouldBe("application/json");
        message.CorrelationId.ShouldBe("placement-P1");
        message.ApplicationProperties.ShouldBe(new Dictionary<string, object> { ["TargetOrg"] = "1-8000000001", ["Round"] = 2 }, ignoreOrder: true);
        message.BodyText.ShouldBe("""{"id":"m-1"}""");
        _broker.Transfers.ShouldBe(1);
        _broker.Batches.ShouldBe(0);
    }

    [Fact]
    public async Task BatchOfThree_ArrivesAsThreeMessagesInOneTransfer()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        using var batch = await sender.CreateMessageBatchAsync();
        foreach (var id in new[] { "b-1", "b-2", "b-3" })
        {
            batch.TryAddMessage(Message(id, "Batched")).ShouldBeTrue();
        }

        await sender.SendMessagesAsync(batch);

        var messages = await _broker.WaitForAsync(3, Wait);
        messages.Select(m => m.MessageId).ShouldBe(["b-1", "b-2", "b-3"]);
        messages.Select(m => m.BodyText).ShouldBe(["""{"id":"b-1"}""", """{"id":"b-2"}""", """{"id":"b-3"}"""]);
        messages.ShouldAllBe(m => m.Subject == "Batched" && m.ContentType == "application/json");
        _broker.Transfers.ShouldBe(1);
        _broker.Batches.ShouldBe(1);
    }

    [Fact]
    public async Task Batch_IsSizedByTheBrokersMaxMessageSize()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        using var batch = await sender.CreateMessageBatchAsync();

        batch.MaxSizeInBytes.ShouldBe(FakeAmqpBroker.MaxMessageSize);
        batch.TryAddMessage(new ServiceBusMessage(new byte[FakeAmqpBroker.MaxMessageSize / 2])).ShouldBeTrue();
        batch.TryAddMessage(new ServiceBusMessage(new byte[FakeAmqpBroker.MaxMessageSize / 2])).ShouldBeFalse();
        batch.Count.ShouldBe(1);
        batch.SizeInBytes.ShouldBeLessThanOrEqualTo(FakeAmqpBroker.MaxMessageSize);

        // A batch of one goes as a plain message, here over several frames.
        await sender.SendMessagesAsync(batch);
        var message = (await _broker.WaitForAsync(1, Wait)).ShouldHaveSingleItem();
        message.Body.Length.ShouldBe(FakeAmqpBroker.MaxMessageSize / 2);
        message.MessageId.ShouldBeNull();
        _broker.Batches.ShouldBe(0);
    }

    [Fact]
    public async Task SameMessageIdTwice_IsKeptOnce()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        await sender.SendMessageAsync(Message("dup", "First"));
        await sender.SendMessageAsync(Message("dup", "Second"));

        _broker.Transfers.ShouldBe(2);
        _broker.Messages.ShouldHaveSingleItem().Subject.ShouldBe("First");
    }

    [Fact]
    public async Task NotFound_IsANonTransientMessagingEntityNotFound_AndStoresNothing()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        _broker.FailNext("amqp:not-found");

        var error = await Should.ThrowAsync<ServiceBusException>(() => sender.SendMessageAsync(Message("nf", "Lost")));

        error.Reason.ShouldBe(ServiceBusFailureReason.MessagingEntityNotFound);
        error.IsTransient.ShouldBeFalse();
        _broker.Transfers.ShouldBe(1);
        _broker.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task AnotherEntity_IsNotFoundAtAttach()
    {
        await using var client = Client();
        var sender = client.CreateSender("no-such-topic");

        var error = await Should.ThrowAsync<ServiceBusException>(() => sender.SendMessageAsync(Message("x", "Nowhere")));

        error.Reason.ShouldBe(ServiceBusFailureReason.MessagingEntityNotFound);
        _broker.Transfers.ShouldBe(0);
    }

    [Fact]
    public async Task InternalErrorOnce_IsRetriedByTheSdk_AndStoredOnce()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        _broker.FailNext("amqp:internal-error");

        await sender.SendMessageAsync(Message("retry", "Retried"));

        _broker.Transfers.ShouldBe(2);
        _broker.Messages.ShouldHaveSingleItem().MessageId.ShouldBe("retry");
    }

    [Fact]
    public async Task ServerBusy_IsATransientServiceBusy()
    {
        // No retries: after server-busy the SDK waits 10 s before it tries again.
        await using var client = Client(maxRetries: 0);
        var sender = client.CreateSender(_broker.Entity);
        _broker.FailNext("com.microsoft:server-busy");

        var error = await Should.ThrowAsync<ServiceBusException>(() => sender.SendMessageAsync(Message("busy", "Busy")));

        error.Reason.ShouldBe(ServiceBusFailureReason.ServiceBusy);
        error.IsTransient.ShouldBeTrue();
        _broker.Transfers.ShouldBe(1);
        _broker.Messages.ShouldBeEmpty();
    }

    [Fact]
    public async Task BrokerDown_SendFails_ThenAfterRestartTheSameSenderSucceeds()
    {
        await using var client = Client();
        var sender = client.CreateSender(_broker.Entity);
        await sender.SendMessageAsync(Message("before", "Up"));
        await _broker.StopAsync();

        var error = await Should.ThrowAsync<ServiceBusException>(() => sender.SendMessageAsync(Message("down", "Down")));
        error.Reason.ShouldBe(ServiceBusFailureReason.ServiceCommunicationProblem);

        await _broker.RestartAsync();
        await sender.SendMessageAsync(Message("after", "Up"));
        (await _broker.WaitForAsync(2, Wait)).Select(m => m.MessageId).ShouldBe(["before", "after"]);
    }

    // Small retries, so that failures are quick.
    private ServiceBusClient Client(int maxRetries = 2) => new(_broker.ConnectionString, new ServiceBusClientOptions
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            Mode = ServiceBusRetryMode.Fixed, MaxRetries = maxRetries, Delay = TimeSpan.FromMilliseconds(50), TryTimeout = TimeSpan.FromSeconds(2),
        },
    });

    private static ServiceBusMessage Message(string id, string subject) =>
        new(Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}""")) { MessageId = id, Subject = subject, ContentType = "application/json" };
}
