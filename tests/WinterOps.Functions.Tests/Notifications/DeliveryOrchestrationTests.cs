using System.Collections.Concurrent;
using System.Net;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Notifications;

/// <summary>
/// The delivery orchestration in the running app, on a real Azurite, with two scripted channels: each channel is
/// delivered on its own, transient failures are tried again up to the configured attempts, refusals are not, and
/// what gives up is a dead letter the coordinators are told of and can re-drive. Channel contracts (the real SDK on the
/// broker, Graph, the webhook) have tests of their own.
/// </summary>
public sealed class DeliveryOrchestrationTests
{
    private static readonly Notification Offer = new(
        "PlacementOffered", Recipient.Org("1-000000001"), "New placement offer", "pl-1", new Dictionary<string, string> { ["placementId"] = "pl-1" });

    [Fact]
    public async Task EachChannel_IsDeliveredOnItsOwn_ATransientFailureIsTriedAgain_AndTheOtherChannelIsNotResent()
    {
        var (app, flaky, steady) = await StartAsync();
        await using var _ = app;
        flaky.Fail(new DeliveryFailedException("Service unavailable", transient: true, status: 503), times: 2);

        var instance = await NotifyAsync(app, "n-1");

        instance.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Completed);
        flaky.Attempts.ShouldBe(3);
        flaky.Sent.Select(s => (s.OutboxId, s.WorkflowId, s.Notification.Type)).ShouldBe([("n-1", "placement-pl-1", "PlacementOffered")]);
        steady.Attempts.ShouldBe(1);
        steady.Sent.Select(s => s.OutboxId).ShouldBe(["n-1"]);
        (await app.Get<DeadLetters>().ListAsync(10, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TheSameNotificationTwice_StartsOneDelivery()
    {
        var (app, flaky, steady) = await StartAsync();
        await using var _ = app;

        await NotifyAsync(app, "n-2");
        await NotifyAsync(app, "n-2"); // a re-run of the activity that notified

        (flaky.Attempts, steady.Attempts).ShouldBe((1, 1));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    public async Task ARefusal_IsDeadLetteredAfterOneAttempt_WithItsReason_AndTheCoordinatorsAreTold(int status)
    {
        var (app, flaky, steady) = await StartAsync();
        await using var _ = app;
        flaky.Fail(new DeliveryFailedException($"Refused with {status}", transient: false, status: status), times: 1);

        await NotifyAsync(app, "n-3");

        flaky.Attempts.ShouldBe(1);
        steady.Sent.Count.ShouldBe(1);
        var letter = (await app.Get<DeadLetters>().ListAsync(10, CancellationToken.None)).ShouldHaveSingleItem();
        (letter.OutboxId, letter.WorkflowId, letter.Channel, letter.Type, letter.Attempts, letter.Status, letter.Reason).ShouldBe(
            ("n-3", "placement-pl-1", "flaky", "PlacementOffered", 1, (int?)status, $"Refused with {status}"));
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var told = (await Brokerage.InboxAsync(coordinator)).EnumerateArray().ShouldHaveSingleItem();
        told.GetProperty("type").GetString().ShouldBe("NotificationDeadLettered");
        told.GetProperty("data").GetProperty("deadLetterId").GetString().ShouldBe(letter.Id);
        told.GetProperty("data").GetProperty("channel").GetString().ShouldBe("flaky");
    }

    [Fact]
    public async Task TheLastAttempt_IsDeadLettered_AndARedriveDeliversItOnThatChannelOnly()
    {
        var (app, flaky, steady) = await StartAsync();
        await using var _ = app;
        flaky.Fail(new HttpRequestException("Connection refused"), times: 3);

        await NotifyAsync(app, "n-4");
        var letter = (await app.Get<DeadLetters>().ListAsync(10, CancellationToken.None)).ShouldHaveSingleItem();
        (letter.Attempts, letter.Reason, flaky.Attempts).ShouldBe((3, "Connection refused", 3));

        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var redrive = await coordinator.PostAsync($"/api/operations/dead-letters/{letter.Id}/redrive", null);
        redrive.StatusCode.ShouldBe(HttpStatusCode.Accepted, await redrive.Content.ReadAsStringAsync());
        (await coordinator.PostAsync($"/api/operations/dead-letters/{letter.Id}/redrive", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await coordinator.PostAsync("/api/operations/dead-letters/not%20an%20id/redrive", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var redriven = await app.Get<IDurableTaskClientProvider>().GetClient().WaitForInstanceCompletionAsync($"redrive-{letter.Id}", getInputsAndOutputs: false);
        redriven.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Completed);
        flaky.Sent.Select(s => s.OutboxId).ShouldBe(["n-4"]);
        steady.Attempts.ShouldBe(1); // the re-drive is for the channel that failed
        (await app.Get<DeadLetters>().ListAsync(10, CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public void TheWait_IsTheReceiversRetryAfter_ElseDoublingFromTheFirst_AtMostTenMinutes()
    {
        var first = TimeSpan.FromSeconds(2);
        DeliveryOrchestration.Backoff(first, 1, null).ShouldBe(TimeSpan.FromSeconds(2));
        DeliveryOrchestration.Backoff(first, 5, null).ShouldBe(TimeSpan.FromSeconds(32));
        DeliveryOrchestration.Backoff(first, 30, null).ShouldBe(DeliveryOrchestration.MaxBackoff);
        DeliveryOrchestration.Backoff(first, 1, TimeSpan.FromSeconds(30)).ShouldBe(TimeSpan.FromSeconds(30));
        DeliveryOrchestration.Backoff(first, 1, TimeSpan.FromHours(1)).ShouldBe(DeliveryOrchestration.MaxBackoff);
    }

    [Fact]
    public void Routing_SendsEveryEventToPartnerSystemsAndTeams_CardsOnlyForWhatNeedsAction_AndFollowsConfiguration()
    {
        var defaults = new NotificationRouting(new NotificationOptions());
        defaults.ChannelsFor("PlacementOffered").ShouldBe(["servicebus", "teams"]);
        defaults.ChannelsFor("EscalationAlert").ShouldBe(["servicebus", "teams", "webhook"]);
        defaults.ChannelsFor("PlacementUnplaced").ShouldBe(["servicebus", "teams", "webhook"]);
        defaults.ChannelsFor("NotificationDeadLettered").ShouldBeEmpty();

        var configured = new NotificationRouting(new NotificationOptions
        {
            Routes = new() { ["PlacementOffered"] = "ServiceBus", ["OpelReturnReminder"] = "none" },
        });
        configured.ChannelsFor("PlacementOffered").ShouldBe(["servicebus"]);
        configured.ChannelsFor("OpelReturnReminder").ShouldBeEmpty();
        configured.ChannelsFor("EscalationAlert").ShouldBe(["servicebus", "teams", "webhook"]);
    }

    /// <summary>Notifies through the app's <see cref="Notifier"/> and waits for the delivery to finish.</summary>
    private static async Task<OrchestrationMetadata> NotifyAsync(TestApp app, string id)
    {
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        await app.Get<Notifier>().NotifyAsync(durable, id, "placement-pl-1", Offer, DateTimeOffset.UtcNow, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await durable.WaitForInstanceCompletionAsync(DeliveryOrchestration.InstanceId(id), getInputsAndOutputs: false, timeout.Token);
    }

    private static async Task<(TestApp App, ScriptedChannel Flaky, ScriptedChannel Steady)> StartAsync()
    {
        var flaky = new ScriptedChannel("flaky");
        var steady = new ScriptedChannel("steady");
        var app = await TestApp.StartAsync(configure: b =>
        {
            b.Configuration["Notifications:Routes:PlacementOffered"] = "flaky,steady,off,unknown";
            b.Configuration["Notifications:MaxAttempts"] = "3";
            b.Configuration["Notifications:FirstRetry"] = "00:00:00.2";
            b.Services.AddSingleton<IExternalChannel>(flaky);
            b.Services.AddSingleton<IExternalChannel>(steady);
            b.Services.AddSingleton<IExternalChannel>(new ScriptedChannel("off", enabled: false));
        });
        return (app, flaky, steady);
    }

    private sealed class ScriptedChannel(string name, bool enabled = true) : IExternalChannel
    {
        private readonly ConcurrentQueue<Exception> _failures = new();
        private int _attempts;

        public ConcurrentQueue<OutgoingNotification> SentQueue { get; } = new();

        public List<OutgoingNotification> Sent => [.. SentQueue];

        public int Attempts => _attempts;

        public string Name => name;

        public bool Enabled => enabled;

        public void Fail(Exception failure, int times)
        {
            for (var i = 0; i < times; i++)
            {
                _failures.Enqueue(failure);
            }
        }

        public Task SendAsync(OutgoingNotification notification, CancellationToken cancellationToken)
        {
            if (!enabled)
            {
                throw new InvalidOperationException("A disabled channel is never sent to.");
            }

            Interlocked.Increment(ref _attempts);
            if (_failures.TryDequeue(out var failure))
            {
                throw failure;
            }

            SentQueue.Enqueue(notification);
            return Task.CompletedTask;
        }
    }
}
