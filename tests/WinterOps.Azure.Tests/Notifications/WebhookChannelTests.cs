using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

public sealed class WebhookChannelTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = ChannelHttp.RequestTimeout };
    private FakeWebhook _webhook = null!;

    public async Task InitializeAsync() => _webhook = await FakeWebhook.StartAsync();

    public async Task DisposeAsync() => await _webhook.DisposeAsync();

    [Fact]
    public async Task EscalationAlert_PostsAnAdaptiveCardWithTheBreakdownAndAnAcknowledgeButton()
    {
        await Channel().SendAsync(Alert(), default);

        var request = _webhook.Requests.ShouldHaveSingleItem();
        request.Method.ShouldBe("POST");
        request.PathAndQuery.ShouldBe("/workflows/winterops?sig=test");
        request.Header("Content-Type").ShouldBe("application/json; charset=utf-8");
        request.Body.Length.ShouldBeLessThan(WebhookChannel.MaxBytes);
        using var body = JsonDocument.Parse(request.Body);
        body.RootElement.GetProperty("type").GetString().ShouldBe("message");
        var attachment = body.RootElement.GetProperty("attachments").EnumerateArray().ShouldHaveSingleItem();
        attachment.GetProperty("contentType").GetString().ShouldBe("application/vnd.microsoft.card.adaptive");
        var card = attachment.GetProperty("content");
        card.GetProperty("type").GetString().ShouldBe("AdaptiveCard");
        card.GetProperty("version").GetString().ShouldBe("1.4");
        card.GetProperty("body")[0].GetProperty("text").GetString().ShouldBe("RXX is at OPEL 4 (2026-01-12)");
        card.GetProperty("body")[1].GetProperty("type").GetString().ShouldBe("FactSet");
        card.GetProperty("body")[1].GetProperty("facts").EnumerateArray().Select(f => $"{f.GetProperty("title").GetString()}={f.GetProperty("value").GetString()}").ShouldBe(
            ["Rule=PartnerAtOpel4", "Date=2026-01-12", "Partner=RXX", "Alert step=1", "Acknowledge by=2026-01-12T11:30:00.0000000+00:00", "Escalation=2026-01-12.partneratopel4.rxx"]);
        var action = card.GetProperty("actions").EnumerateArray().ShouldHaveSingleItem();
        action.GetProperty("type").GetString().ShouldBe("Action.OpenUrl");
        action.GetProperty("title").GetString().ShouldBe("Acknowledge");
        action.GetProperty("url").GetString().ShouldBe("https://winterops.example.nhs.uk/api/escalations/2026-01-12.partneratopel4.rxx");
    }

    [Fact]
    public async Task SystemLevelAlert_CardShowsTheLevelAndThePartnerBreakdown()
    {
        var data = new Dictionary<string, string>
        {
            ["escalationId"] = "2026-01-12-SystemLevel-system", ["rule"] = "SystemLevel", ["date"] = "2026-01-12", ["systemLevel"] = "3",
            ["partners"] = "OPEL 4: RZ1; OPEL 2: 12; missing: LZ4", ["step"] = "1", ["acknowledgeBy"] = "2026-01-12T11:30:00.0000000+00:00",
        };
        var alert = Alert() with { Notification = Alert().Notification with { Title = "The system is at OPEL 3 (2026-01-12)", Data = data } };

        await Channel().SendAsync(alert, default);

        using var body = JsonDocument.Parse(_webhook.Requests.ShouldHaveSingleItem().Body);
        var card = body.RootElement.GetProperty("attachments")[0].GetProperty("content");
        card.GetProperty("body")[1].GetProperty("facts").EnumerateArray().Select(f => $"{f.GetProperty("title").GetString()}={f.GetProperty("value").GetString()}").ShouldBe(
        [
            "Rule=SystemLevel", "Date=2026-01-12", "System OPEL level=3", "Partners=OPEL 4: RZ1; OPEL 2: 12; missing: LZ4", "Alert step=1",
            "Acknowledge by=2026-01-12T11:30:00.0000000+00:00", "Escalation=2026-01-12-SystemLevel-system",
        ]);
    }

    [Fact]
    public async Task TheLongestPartnerBreakdown_FitsOnTheCardWhole()
    {
        // Three full lists of 5-character codes (each "and N more") and two counts: as long as a breakdown gets.
        var partners = Enumerable.Range(0, 15).Select(i => new PartnerAssessment($"RA{i:D3}", Sector.Acute, 4, false))
            .Concat(Enumerable.Range(0, 15).Select(i => new PartnerAssessment($"RB{i:D3}", Sector.Acute, 3, false)))
            .Concat(Enumerable.Range(0, 15).Select(i => new PartnerAssessment($"RC{i:D3}", Sector.Acute, null, true)))
            .Concat(Enumerable.Range(0, 4000).Select(i => new PartnerAssessment($"RD{i:D3}", Sector.Acute, 1 + (i % 2), false)))
            .ToList();
        var breakdown = RoundWorkflow.Breakdown(partners);
        var alert = Alert() with { Notification = Alert().Notification with { Data = new Dictionary<string, string> { ["rule"] = "SystemLevel", ["partners"] = breakdown } } };

        await Channel().SendAsync(alert, default);

        using var body = JsonDocument.Parse(_webhook.Requests.ShouldHaveSingleItem().Body);
        var facts = body.RootElement.GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[1].GetProperty("facts");
        facts.EnumerateArray().Single(f => f.GetProperty("title").GetString() == "Partners").GetProperty("value").GetString().ShouldBe(breakdown);
        breakdown.ShouldEndWith("missing: RC000, RC001, RC002, RC003, RC004, RC005, RC006, RC007, RC008, RC009 and 5 more");
    }

    [Fact]
    public async Task PlacementUnplaced_PostsACardWithThePlacementFacts()
    {
        var unplaced = new Notification("PlacementUnplaced", Recipient.Role("Coordinator"), "Unplaced nursing placement needs brokerage", "P9",
            new Dictionary<string, string> { ["placementId"] = "P9", ["referringOrg"] = "RZ1", ["pathway"] = "P3", ["bedType"] = "nursing", ["requiredBy"] = "2026-01-14" },
            "/api/placements/P9");

        await Channel().SendAsync(new OutgoingNotification("placement-P9.0000000007.1", "placement-P9", unplaced, Sample.CreatedAt, []), default);

        var card = JsonDocument.Parse(_webhook.Requests.ShouldHaveSingleItem().Body).RootElement.GetProperty("attachments")[0].GetProperty("content");
        card.GetProperty("body")[1].GetProperty("facts").EnumerateArray().Select(f => f.GetProperty("value").GetString()).ShouldBe(["P9", "nursing", "P3", "2026-01-14", "RZ1"]);
        card.GetProperty("actions")[0].GetProperty("url").GetString().ShouldBe("https://winterops.example.nhs.uk/api/placements/P9");
    }

    [Fact]
    public async Task OtherTypes_AreNotPosted()
    {
        await Channel().SendAsync(Sample.Offer(), default);

        _webhook.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task Throttled_IsTransient_ClientErrorsAreNot()
    {
        _webhook.Enqueue(429, "3");
        _webhook.Enqueue(400);

        var throttled = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Alert(), default));
        var refused = await Should.ThrowAsync<DeliveryFailedException>(() => Channel().SendAsync(Alert(), default));

        (throttled.Transient, throttled.RetryAfter).ShouldBe((true, TimeSpan.FromSeconds(3)));
        (refused.Transient, refused.Status).ShouldBe((false, 400));
    }

    [Fact]
    public void Settings_OffWithoutUrl_HttpsRequiredExceptLoopback()
    {
        new WebhookChannel(new TeamsOptions(), Http, TimeProvider.System, NullLogger<WebhookChannel>.Instance).Enabled.ShouldBeFalse();
        Channel().Enabled.ShouldBeTrue();
        Should.Throw<InvalidOperationException>(() => new WebhookChannel(
            new TeamsOptions { WorkflowWebhookUrl = "http://prod-00.westeurope.logic.azure.com/workflows/x", LinkBaseUrl = "https://w.example" },
            Http, TimeProvider.System, NullLogger<WebhookChannel>.Instance)).Message.ShouldContain("WorkflowWebhookUrl");
    }

    internal static OutgoingNotification Alert() => new(
        "escalation-2026-01-12.partneratopel4.rxx.0000000002.0",
        "escalation-2026-01-12.partneratopel4.rxx",
        new Notification(
            "EscalationAlert", Recipient.Role("Executive"), "RXX is at OPEL 4 (2026-01-12)", "2026-01-12.partneratopel4.rxx",
            new Dictionary<string, string>
            {
                ["odsCode"] = "RXX", ["escalationId"] = "2026-01-12.partneratopel4.rxx", ["rule"] = "PartnerAtOpel4", ["date"] = "2026-01-12",
                ["step"] = "1", ["acknowledgeBy"] = "2026-01-12T11:30:00.0000000+00:00", ["entraUserId"] = "11111111-1111-1111-1111-111111111111",
            },
            "/api/escalations/2026-01-12.partneratopel4.rxx",
            Severity: Severity.Critical,
            People: ["11111111-1111-1111-1111-111111111111"]),
        Sample.CreatedAt,
        ["11111111-1111-1111-1111-111111111111"]);

    private WebhookChannel Channel() => new(
        new TeamsOptions { WorkflowWebhookUrl = _webhook.Url, LinkBaseUrl = "https://winterops.example.nhs.uk/" }, Http, TimeProvider.System, NullLogger<WebhookChannel>.Instance);
}
