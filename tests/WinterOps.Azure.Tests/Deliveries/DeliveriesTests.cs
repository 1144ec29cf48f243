using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;
using DeliveryLoop = WinterOps.Azure.Notifications.Deliveries;

namespace WinterOps.Azure.Tests.Deliveries;

/// <summary>
/// The delivery loop on a real Azurite: routing, retries with backoff or Retry-After through the
/// delivery queue, dead letters and their re-drive. The channel here is a scripted in-process
/// <see cref="IExternalChannel"/>; the Service Bus and Graph channels have contract tests of their own.
/// </summary>
public sealed class DeliveriesTests
{
    private static readonly Notification Offer = new(
        "PlacementOffered", Recipient.Org("1-000000001"), "New placement offer", "pl-1", new Dictionary<string, string> { ["placementId"] = "pl-1" });

    [Fact]
    public async Task EachRoutedChannel_GetsOneQueuedDelivery_AndADeliveredOneIsSentOnce()
    {
        var (deliveries, engine, channel) = await StartAsync(new NotificationOptions());

        await deliveries.EnqueueAsync("out-1", "placement-pl-1", Offer, engine.Time.GetUtcNow(), CancellationToken.None);
        var queued = await ReceiveAllAsync(engine.Storage);

        queued.Select(r => r.Channel).ShouldBe(["scripted"]); // the only enabled channel the type is routed to
        await deliveries.DeliverAsync(queued[0], CancellationToken.None);
        channel.Sent.Select(s => (s.OutboxId, s.WorkflowId, s.Notification.Type)).ShouldBe([("out-1", "placement-pl-1", "PlacementOffered")]);
        channel.Sent[0].People.ShouldBe(["broker-entra-id"]);
        (await ReceiveAllAsync(engine.Storage)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ATransientFailure_IsQueuedAgain_WithTheNextAttempt_AfterTheReceiversRetryAfter()
    {
        var (deliveries, engine, channel) = await StartAsync(new NotificationOptions());
        channel.Failures.Enqueue(new DeliveryFailedException("Throttled", transient: true, status: 429, retryAfter: TimeSpan.FromSeconds(30)));

        await deliveries.DeliverAsync(Request(attempt: 1), CancellationToken.None);

        (await ReceiveAllAsync(engine.Storage)).ShouldBeEmpty(); // hidden for the 30 s the receiver asked for
        var hidden = await engine.Storage.Queue(StorageNames.DeliveriesQueue).PeekMessagesAsync(maxMessages: 1);
        hidden.Value.ShouldBeEmpty();
        (await engine.Storage.Queue(StorageNames.DeliveriesQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount.ShouldBe(1);
        (await deliveries.ListAsync(10, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task AFailureWithoutRetryAfter_IsQueuedAgain_HiddenForAnExponentialBackoff()
    {
        DeliveryLoop.Backoff(1).ShouldBeInRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.4));
        DeliveryLoop.Backoff(5).ShouldBeInRange(TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(38.4));
        DeliveryLoop.Backoff(30).ShouldBe(DeliveryLoop.MaxBackoff);

        var (deliveries, engine, channel) = await StartAsync(new NotificationOptions());
        channel.Failures.Enqueue(new DeliveryFailedException("Service unavailable", transient: true, status: 503));
        await deliveries.DeliverAsync(Request(attempt: 3), CancellationToken.None);

        (await engine.Storage.Queue(StorageNames.DeliveriesQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount.ShouldBe(1);
        (await engine.Storage.Queue(StorageNames.DeliveriesQueue).PeekMessagesAsync(maxMessages: 1)).Value.ShouldBeEmpty();
        (await deliveries.ListAsync(10, CancellationToken.None)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(410)]
    public async Task APermanentRefusal_IsDeadLettered_AtOnce_WithItsReason(int status)
    {
        var (deliveries, engine, channel) = await StartAsync(new NotificationOptions());
        channel.Failures.Enqueue(new DeliveryFailedException($"Refused with {status}", transient: false, status: status));

        await deliveries.DeliverAsync(Request(attempt: 1), CancellationToken.None);

        (await engine.Storage.Queue(StorageNames.DeliveriesQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount.ShouldBe(0);
        var letter = (await deliveries.ListAsync(10, CancellationToken.None)).ShouldHaveSingleItem();
        (letter.OutboxId, letter.Channel, letter.Type, letter.Attempts, letter.Status, letter.Reason).ShouldBe(
            ("out-1", "scripted", "PlacementOffered", 1, (int?)status, $"Refused with {status}"));
        channel.Attempts.ShouldBe(1);
    }

    [Fact]
    public async Task TheLastAttempt_IsDeadLettered_AndARedriveDeliversItFromAttemptOne()
    {
        var (deliveries, engine, channel) = await StartAsync(new NotificationOptions { MaxAttempts = 3 });
        channel.Failures.Enqueue(new HttpRequestException("Connection refused"));

        await deliveries.DeliverAsync(Request(attempt: 3), CancellationToken.None);
        var letter = (await deliveries.ListAsync(10, CancellationToken.None)).ShouldHaveSingleItem();
        letter.Attempts.ShouldBe(3);
        letter.Reason.ShouldBe("Connection refused");

        (await deliveries.RedriveAsync(letter.Id, CancellationToken.None)).ShouldBeTrue();
        (await deliveries.RedriveAsync(letter.Id, CancellationToken.None)).ShouldBeFalse(); // gone once re-driven
        (await deliveries.ListAsync(10, CancellationToken.None)).ShouldBeEmpty();
        var again = (await ReceiveAllAsync(engine.Storage)).ShouldHaveSingleItem();
        again.Attempt.ShouldBe(1);
        await deliveries.DeliverAsync(again, CancellationToken.None);
        channel.Sent.Select(s => s.OutboxId).ShouldBe(["out-1"]);
    }

    [Fact]
    public void Routing_SendsEveryEventToPartnerSystemsAndTeams_CardsOnlyForWhatNeedsAction_AndFollowsConfiguration()
    {
        var defaults = new NotificationRouting(new NotificationOptions());
        defaults.ChannelsFor("PlacementOffered").ShouldBe(["servicebus", "teams"]);
        defaults.ChannelsFor("EscalationAlert").ShouldBe(["servicebus", "teams", "webhook"]);
        defaults.ChannelsFor("PlacementUnplaced").ShouldBe(["servicebus", "teams", "webhook"]);
        defaults.ChannelsFor("QueueMessagesFailed").ShouldBeEmpty();

        var configured = new NotificationRouting(new NotificationOptions
        {
            Routes = new() { ["PlacementOffered"] = "ServiceBus", ["OpelReturnReminder"] = "none" },
        });
        configured.ChannelsFor("PlacementOffered").ShouldBe(["servicebus"]);
        configured.ChannelsFor("OpelReturnReminder").ShouldBeEmpty();
        configured.ChannelsFor("EscalationAlert").ShouldBe(["servicebus", "teams", "webhook"]);
    }

    private static DeliveryRequest Request(int attempt) => new("out-1", "placement-pl-1", "scripted", Offer, DateTimeOffset.UnixEpoch, attempt);

    private static async Task<(DeliveryLoop Deliveries, Engine Engine, ScriptedChannel Channel)> StartAsync(NotificationOptions options)
    {
        var engine = await Engine.StartAsync();
        var channel = new ScriptedChannel();
        var routing = new NotificationRouting(new NotificationOptions { Routes = new() { ["PlacementOffered"] = "scripted,disabled,unknown" } });
        var deliveries = new DeliveryLoop(
            engine.Storage, [channel, new DisabledChannel()], routing, new OneBroker(), options,
            engine.Time, NullLogger<DeliveryLoop>.Instance);
        return (deliveries, engine, channel);
    }

    private static async Task<List<DeliveryRequest>> ReceiveAllAsync(StorageAccount storage)
    {
        var messages = await storage.Queue(StorageNames.DeliveriesQueue).ReceiveMessagesAsync(maxMessages: 32);
        return messages.Value.Select(m => JsonSerializer.Deserialize<DeliveryRequest>(m.Body.ToString(), WorkflowJson.Options)!).ToList();
    }

    private sealed class ScriptedChannel : IExternalChannel
    {
        public Queue<Exception> Failures { get; } = new();

        public List<OutgoingNotification> Sent { get; } = [];

        public int Attempts { get; private set; }

        public string Name => "scripted";

        public bool Enabled => true;

        public Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
        {
            Attempts++;
            if (Failures.TryDequeue(out var failure))
            {
                throw failure;
            }

            Sent.Add(notification);
            return Task.CompletedTask;
        }
    }

    private sealed class DisabledChannel : IExternalChannel
    {
        public string Name => "disabled";

        public bool Enabled => false;

        public Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A disabled channel is never sent to.");
    }

    private sealed class OneBroker : IPeopleDirectory
    {
        public Task<IReadOnlyList<string>> PeopleForAsync(Notification notification, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(["broker-entra-id"]);
    }
}
