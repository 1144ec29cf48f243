using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

/// <summary>
/// Patient details must never leave WinterOps. Notifications carry none, but if a bug upstream put them in
/// a notification's data, the channels still drop them: every byte the fakes receive is scanned.
/// </summary>
public sealed class PrivacyTests
{
    private static readonly HttpClient Http = new() { Timeout = ChannelHttp.RequestTimeout };

    // Synthetic values (a valid-format test NHS number, made-up reference and needs).
    private static readonly Dictionary<string, string> Planted = new()
    {
        ["patientRef"] = "PTREF-0042-SYNTH",
        ["nhsNumber"] = "9434765919",
        ["NeedsSummary"] = "Synthetic: hoist transfer and PEG feeding",
    };

    [Fact]
    public async Task PatientFieldsInData_NeverReachServiceBusTeamsOrTheWebhook()
    {
        await using var bus = await FakeAmqpBroker.StartAsync();
        await using var client = ServiceBusChannelTests.Client(bus);
        await using var graph = await FakeGraph.StartAsync();
        await using var webhook = await FakeWebhook.StartAsync();
        var serviceBus = new ServiceBusChannel(client.CreateSender(bus.Entity), NullLogger<ServiceBusChannel>.Instance);
        var teamsOptions = new TeamsOptions
        {
            TenantId = "t", ClientId = "c", GraphBaseUrl = graph.BaseUrl, LinkBaseUrl = "https://winterops.example.nhs.uk", WorkflowWebhookUrl = webhook.Url,
        };
        using var teams = new TeamsChannel(teamsOptions, TimeProvider.System, NullLogger<TeamsChannel>.Instance, FakeGraph.Authentication);
        var cards = new WebhookChannel(teamsOptions, Http, TimeProvider.System, NullLogger<WebhookChannel>.Instance);

        foreach (var outgoing in new[] { Sample.Offer(people: ["u1"]), Sample.RoundNotice(3), WebhookChannelTests.Alert(), Unplaced() }.Select(Leaky))
        {
            foreach (var channel in new IExternalChannel[] { serviceBus, teams, cards })
            {
                await channel.SendAsync(outgoing, default);
            }
        }

        // Each Service Bus message as the broker stored it: the whole body, its properties and application properties.
        var brokered = bus.Messages.Select(m => (
            Where: $"Service Bus message {m.MessageId}",
            Everything: string.Join("\n", [m.BodyText, m.MessageId, m.Subject, m.ContentType, m.CorrelationId, .. m.ApplicationProperties.Select(p => $"{p.Key}: {p.Value}")])));
        var requests = graph.Requests.Concat(webhook.Requests).ToList();
        requests.Select(r => r.PathAndQuery).Distinct().Count().ShouldBe(3); // Teams and the webhook were exercised
        webhook.Requests.Count.ShouldBe(2);
        var captured = requests.Select(r => (Where: r.PathAndQuery, Everything: r.Body + string.Join("\n", r.Headers.Select(h => $"{h.Key}: {h.Value}"))))
            .Concat(brokered).ToList();
        foreach (var (where, everything) in captured)
        {
            foreach (var (key, value) in Planted)
            {
                everything.ShouldNotContain(key, Case.Insensitive, $"{where} carried the key {key}");
                everything.ShouldNotContain(value, Case.Insensitive, $"{where} carried the value of {key}");
            }
        }

        bus.Messages.Count.ShouldBe(1 + 3 + 1 + 1);
    }

    private static OutgoingNotification Leaky(OutgoingNotification outgoing) =>
        outgoing with { Notification = outgoing.Notification with { Data = new Dictionary<string, string>(outgoing.Notification.Data.Concat(Planted)) } };

    private static OutgoingNotification Unplaced() => new(
        "placement-P9.0000000007.1",
        "placement-P9",
        new Notification("PlacementUnplaced", Recipient.Org("RZ1"), "No care home could take the placement", "P9",
            new Dictionary<string, string> { ["placementId"] = "P9", ["bedType"] = "nursing" }, "/api/placements/P9"),
        Sample.CreatedAt,
        []);
}
