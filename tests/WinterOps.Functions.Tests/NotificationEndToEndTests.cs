using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Functions.Tests.Opel;
using WinterOps.Functions.Tests.Placements;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;

namespace WinterOps.Functions.Tests;

/// <summary>
/// The whole path, with the app's own triggers running: a placement offered to a care home and a partner at
/// OPEL 4 reach Service Bus (a loopback fake topic), Teams (a fake Graph) and the Workflows webhook (a fake)
/// exactly as the message catalogue says, and every recipient's inbox; and with no channel configured the
/// inbox still gets everything.
/// </summary>
public sealed class NotificationEndToEndTests
{
    private const string Home = "1-1000000501";
    private const string Partner = "Z0501";

    // Synthetic Entra object ids.
    private const string BrokerUser = "00000000-0000-4000-8000-00000000b501";
    private const string OnCallUser = "00000000-0000-4000-8000-00000000e501";

    private const string LinkBase = "https://winterops.example.nhs.uk";

    [Fact]
    public async Task PlacementOfferedAndPartnerAtOpel4_ReachServiceBusTeamsWebhookAndInboxes_AndNothingElse()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var bus = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
        await using var graph = await FakeGraph.StartAsync();
        await using var webhook = await FakeWebhook.StartAsync();
        var outcome = await RunAsync(clock, b =>
        {
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString;
            b.Configuration["Notifications:Teams:TenantId"] = "00000000-0000-4000-8000-00000000a001";
            b.Configuration["Notifications:Teams:ClientId"] = "00000000-0000-4000-8000-00000000a002";
            b.Configuration["Notifications:Teams:GraphBaseUrl"] = graph.BaseUrl;
            b.Configuration["Notifications:Teams:LinkBaseUrl"] = LinkBase;
            b.Configuration["Notifications:Teams:WorkflowWebhookUrl"] = webhook.Url;
            b.Services.AddSingleton(sp => new TeamsChannel(
                sp.GetRequiredService<TeamsOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TeamsChannel>>(), FakeGraph.Authentication));
        },
        settled: () => bus.Messages.Count >= 3 && graph.Requests.Count >= 2 && webhook.Requests.Count >= 1);

        // Service Bus: one message per event, filterable by type, target organisation and severity.
        var messages = bus.Messages.OrderBy(m => m.Subject, StringComparer.Ordinal).ToList();
        messages.Select(m => $"{m.Subject} {m.ApplicationProperties["TargetOrg"]} {m.ApplicationProperties["Severity"]} {m.CorrelationId}").ShouldBe(
        [
            $"EscalationAlert {Partner} Critical escalation-{outcome.EscalationId}",
            $"PartnerRegistered ALL Info partner-{Partner}",
            $"PlacementOffered {Home} Info placement-{outcome.PlacementId}",
        ]);
        foreach (var message in messages)
        {
            using var cloudEvent = JsonDocument.Parse(message.Body);
            cloudEvent.RootElement.GetProperty("id").GetString().ShouldBe(message.MessageId);
            cloudEvent.RootElement.GetProperty("type").GetString().ShouldBe(CloudEvents.TypeFor(message.Subject!));
            message.ContentType.ShouldBe(ServiceBusChannel.CloudEventsContentType);
            message.ApplicationProperties["EventType"].ShouldBe(message.Subject);
            message.ApplicationProperties["SchemaVersion"].ShouldBe(ServiceBusChannel.SchemaVersion);
        }

        // Teams: the home's broker is told of the offer, the partner's on-call director of the alert, each by Entra id.
        graph.Requests.Select(r => $"{r.Method} {r.PathAndQuery} {WebUrl(r.Body)}").Order(StringComparer.Ordinal).ShouldBe(
        [
            $"POST /v1.0/users/{BrokerUser}/teamwork/sendActivityNotification {LinkBase}/offers",
            $"POST /v1.0/users/{OnCallUser}/teamwork/sendActivityNotification {LinkBase}/escalations/{outcome.EscalationId}",
        ]);

        // The channel's Workflows webhook: a card for the escalation only.
        webhook.Requests.Count.ShouldBe(1);
        webhook.Requests[0].Body.ShouldContain($"{LinkBase}/escalations/{outcome.EscalationId}");

        outcome.Inboxes.ShouldBe(ExpectedInboxes);
        outcome.DeadLetters.ShouldBe(0);
        foreach (var body in bus.Messages.Select(m => m.BodyText).Concat(graph.Requests.Concat(webhook.Requests).Select(r => r.Body)))
        {
            foreach (var planted in outcome.PatientDetails)
            {
                body.ShouldNotContain(planted, Case.Insensitive);
            }
        }
    }

    [Fact]
    public async Task WithNoChannelConfigured_TheAppRuns_AndTheInboxGetsEverything()
    {
        var outcome = await RunAsync(new TestClock(DateTimeOffset.UtcNow), _ => { }, settled: () => true);

        outcome.Inboxes.ShouldBe(ExpectedInboxes);
        outcome.DeadLetters.ShouldBe(0); // nothing was queued for a channel that is off
    }

    [Fact]
    public async Task ServiceBusRefusals_ThroughTheDeliveryOrchestration_RetryTheSameMessageOrDeadLetterIt()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var bus = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
        await using var app = await TestApp.StartAsync(localTriggers: true, time: clock, configure: b =>
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString);
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        clock.UtcNow = London.At(London.Today(clock.UtcNow), new TimeOnly(7, 0)); // before the round opens: no round notices join in

        // A transient refusal on the SDK's try and on its one retry: the delivery orchestration tries again later, with the same MessageId.
        bus.FailNext("amqp:internal-error", times: 2);
        await RegisterAsync(coordinator, 511);
        var accepted = await Brokerage.EventuallyAsync(() => Task.FromResult(bus.Messages), m => m.Count == 1, "the message after two refusals");
        bus.Transfers.ShouldBe(3);
        accepted[0].Subject.ShouldBe("PartnerRegistered");
        accepted[0].MessageId.ShouldStartWith($"partner-{OpelRound.Ods(511)}.");

        // Not found: dead-lettered after one attempt, not retried; a coordinator re-drives it once the topic is there.
        bus.FailNext("amqp:not-found");
        await RegisterAsync(coordinator, 512);
        var letters = await Brokerage.EventuallyAsync(
            async () => await Http.JsonAsync(await coordinator.GetAsync("/api/operations/dead-letters")), l => l.GetArrayLength() == 1, "the dead letter");
        var letter = letters[0];
        (letter.GetProperty("channel").GetString(), letter.GetProperty("attempts").GetInt32()).ShouldBe(("servicebus", 1));
        letter.GetProperty("reason").GetString()!.ShouldContain("MessagingEntityNotFound");
        bus.Transfers.ShouldBe(4);
        bus.Messages.Count.ShouldBe(1);

        var redrive = await coordinator.PostAsync($"/api/operations/dead-letters/{letter.GetProperty("id").GetString()}/redrive", null);
        redrive.StatusCode.ShouldBe(HttpStatusCode.Accepted, await redrive.Content.ReadAsStringAsync());
        var delivered = await Brokerage.EventuallyAsync(() => Task.FromResult(bus.Messages), m => m.Count == 2, "the re-driven message");
        delivered[1].MessageId.ShouldStartWith($"partner-{OpelRound.Ods(512)}.");
        (await Http.JsonAsync(await coordinator.GetAsync("/api/operations/dead-letters"))).GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task BrokerDown_TheAppWorks_TheDeliveryIsRetriedThenDeadLettered_AndReDrivenOnceTheBrokerIsBack()
    {
        var clock = new TestClock(DateTimeOffset.UtcNow);
        await using var bus = await FakeAmqpBroker.StartAsync(ServiceBusOptions.DefaultTopic);
        await using var app = await TestApp.StartAsync(localTriggers: true, time: clock, configure: b =>
        {
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString;
            b.Configuration["Notifications:MaxAttempts"] = "3";
            b.Configuration["Notifications:FirstRetry"] = "00:00:00.2";
        });
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        clock.UtcNow = London.At(London.Today(clock.UtcNow), new TimeOnly(7, 0)); // before the round opens: no round notices join in
        await bus.StopAsync();

        // The broker is unreachable: the registration still succeeds, and the partner is there.
        await RegisterAsync(coordinator, 513);
        (await coordinator.GetAsync($"/api/partners/{OpelRound.Ods(513)}")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Every attempt fails to connect; after the last one the delivery is a dead letter and the coordination centre is told.
        var letters = await Brokerage.EventuallyAsync(
            async () => await Http.JsonAsync(await coordinator.GetAsync("/api/operations/dead-letters")), l => l.GetArrayLength() == 1, "the dead letter",
            TimeSpan.FromSeconds(90));
        var letter = letters[0];
        (letter.GetProperty("channel").GetString(), letter.GetProperty("attempts").GetInt32()).ShouldBe(("servicebus", 3));
        letter.GetProperty("outboxId").GetString().ShouldBe($"partner-{OpelRound.Ods(513)}.registered");
        var told = await Brokerage.EventuallyAsync(
            () => Brokerage.InboxAsync(coordinator), i => i.EnumerateArray().Any(n => n.GetProperty("type").GetString() == "NotificationDeadLettered"),
            "the coordinators to be told");
        told.EnumerateArray().Single(n => n.GetProperty("type").GetString() == "NotificationDeadLettered")
            .GetProperty("data").GetProperty("deadLetterId").GetString().ShouldBe(letter.GetProperty("id").GetString());
        bus.Messages.ShouldBeEmpty();

        // Back up: a re-drive sends the same message once, and the dead letter is gone.
        await bus.RestartAsync();
        var redrive = await coordinator.PostAsync($"/api/operations/dead-letters/{letter.GetProperty("id").GetString()}/redrive", null);
        redrive.StatusCode.ShouldBe(HttpStatusCode.Accepted, await redrive.Content.ReadAsStringAsync());
        var delivered = await bus.WaitForAsync(1, TimeSpan.FromSeconds(60));
        delivered.ShouldHaveSingleItem().MessageId.ShouldBe($"partner-{OpelRound.Ods(513)}.registered");
        delivered[0].Subject.ShouldBe("PartnerRegistered");
        (await Http.JsonAsync(await coordinator.GetAsync("/api/operations/dead-letters"))).GetArrayLength().ShouldBe(0);
    }

    private static async Task RegisterAsync(HttpClient coordinator, int n)
    {
        var put = await coordinator.PutAsJsonAsync($"/api/partners/{OpelRound.Ods(n)}", OpelRound.PartnerBody(n));
        put.StatusCode.ShouldBe(HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
    }

    /// <summary>Each user's inbox, by notification type: the same whichever external channels are on.</summary>
    private static readonly string[] ExpectedInboxes =
    [
        "coordinator: PartnerRegistered",
        "team: ",
        "broker: PlacementOffered",
        "partner: EscalationAlert",
        "executive: EscalationAlert",
    ];

    private static string? WebUrl(string graphBody)
    {
        using var body = JsonDocument.Parse(graphBody);
        return body.RootElement.GetProperty("topic").GetProperty("webUrl").GetString();
    }

    private sealed record Outcome(IReadOnlyList<string> Inboxes, string PlacementId, string EscalationId, int DeadLetters, IReadOnlyList<string> PatientDetails);

    /// <summary>
    /// Registers a partner (its on-call contact has an Entra id) and a care home (its broker has one), requests a
    /// placement the home is offered, and has the partner declare OPEL 4; waits until the work has settled (the
    /// dispatch, command and delivery queues are empty and <paramref name="settled"/> holds) and reads every inbox.
    /// </summary>
    private static async Task<Outcome> RunAsync(TestClock clock, Action<WebApplicationBuilder> configure, Func<bool> settled)
    {
        await using var brokerage = await Brokerage.StartAsync(localTriggers: true, time: clock, configure: configure);
        var app = brokerage.App;
        using var partner = await app.ClientAsAsync("Partner", Partner, "Pat Reporter (test)");
        using var executive = await app.ClientAsAsync("Executive", "QZZ", "Evelyn Executive (test)");
        var broker = await brokerage.BrokerAsync(Home);

        // Tokens are issued; now a fixed morning before the round opens, so no round timer adds its own notices.
        var today = London.Today(clock.UtcNow);
        clock.UtcNow = London.At(today, new TimeOnly(7, 0));

        var registered = await brokerage.Coordinator.PutAsJsonAsync($"/api/partners/{Partner}", new
        {
            name = "Synthetic Acute Trust 501 (test)",
            sector = "acute",
            sizeWeight = 100,
            expectedDaily = true,
            contacts = new[] { new { name = "Alex Oncall (test)", entraUserId = OnCallUser, role = "On-call director", onCallOrder = 1 } },
        });
        registered.StatusCode.ShouldBe(HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
        await brokerage.AddHomeAsync(Home, brokerEntraUserId: BrokerUser);

        var request = brokerage.RequestBody();
        var placement = await brokerage.RequestAsync(request);
        var opel4 = await partner.PutAsJsonAsync($"/api/returns/{OpelRound.Iso(today)}/{Partner}", OpelRound.Return(declaredLevel: 4));
        opel4.StatusCode.ShouldBe(HttpStatusCode.OK, await opel4.Content.ReadAsStringAsync());

        await brokerage.SettledAsync(Brokerage.Id(placement)); // the orchestration has handed its notices on
        await Brokerage.EventuallyAsync( // and the escalation's orchestration its alert
            async () => (await Brokerage.InboxAsync(executive)).EnumerateArray().Count(i => i.GetProperty("type").GetString() == "EscalationAlert"),
            alerts => alerts > 0, "the escalation's alert");
        var durable = app.Get<IDurableTaskClientProvider>().GetClient();
        await Brokerage.EventuallyAsync(
            async () =>
            {
                // Every delivery orchestration has finished (each channel delivered or dead-lettered), and what the test waits for arrived.
                var running = 0;
                await foreach (var instance in durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "delivery-" }))
                {
                    running += instance.IsRunning || instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending ? 1 : 0;
                }

                return running > 0 ? $"{running} deliveries running" : settled() ? "" : "not all deliveries arrived";
            },
            waiting => waiting.Length == 0,
            "the notifications to settle");

        var escalations = await Http.JsonAsync(await brokerage.Coordinator.GetAsync("/api/escalations"));
        var inboxes = new List<string>();
        foreach (var (who, client) in new[] { ("coordinator", brokerage.Coordinator), ("team", brokerage.Team), ("broker", broker), ("partner", partner), ("executive", executive) })
        {
            var types = (await Brokerage.InboxAsync(client)).EnumerateArray().Select(i => i.GetProperty("type").GetString()!).Order(StringComparer.Ordinal);
            inboxes.Add($"{who}: {string.Join(", ", types)}");
        }

        var deadLetters = (await Http.JsonAsync(await brokerage.Coordinator.GetAsync("/api/operations/dead-letters"))).GetArrayLength();
        return new Outcome(
            inboxes, Brokerage.Id(placement), escalations.EnumerateArray().Single().GetProperty("escalationId").GetString()!, deadLetters,
            [(string)request["patientRef"]!, (string)request["nhsNumber"]!, (string)request["needsSummary"]!]);
    }
}
