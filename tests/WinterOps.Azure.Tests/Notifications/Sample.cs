using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Tests.Notifications;

/// <summary>Notifications shaped like the deciders' (ids and codes only), for the channel contract tests.</summary>
internal static class Sample
{
    public static readonly DateTimeOffset CreatedAt = new(2026, 1, 12, 9, 30, 0, TimeSpan.Zero);

    public static OutgoingNotification Offer(string outboxId = "placement-P1.0000000002.0", IReadOnlyList<string>? people = null) => new(
        outboxId,
        "placement-P1",
        new Notification(
            "PlacementOffered",
            Recipient.Org("1-8000000001"),
            "New placement offer: nursing bed, round 1",
            "P1",
            new Dictionary<string, string> { ["placementId"] = "P1", ["bedType"] = "nursing", ["pathway"] = "P3", ["requiredBy"] = "2026-01-14", ["sector"] = "careHome" },
            "/api/placements/P1",
            Severity: Severity.Warning),
        CreatedAt,
        people ?? []);

    /// <summary>A round notice to <paramref name="orgs"/> partners in one outbox row, optionally with one big data value.</summary>
    public static OutgoingNotification RoundNotice(int orgs, int padding = 0, string outboxId = "round-2026-01-12.0000000001.0")
    {
        var data = new Dictionary<string, string> { ["date"] = "2026-01-12" };
        if (padding > 0)
        {
            data["padding"] = new string('x', padding);
        }

        var recipients = Enumerable.Range(0, orgs).Select(i => Recipient.Org($"R{i:D3}")).ToList();
        return new OutgoingNotification(
            outboxId,
            "round-2026-01-12",
            new Notification("OpelRoundOpened", recipients[0], "Today's OPEL return is open", "round-2026-01-12", data, "/api/returns/2026-01-12", recipients.Skip(1).ToList()),
            CreatedAt,
            []);
    }

    public static OutgoingNotification ToRoleOnly() => new(
        "escalation-x.0000000003.0",
        "escalation-x",
        new Notification("EscalationResolved", Recipient.Role("Coordinator"), "Resolved", "x", new Dictionary<string, string> { ["rule"] = "SystemLevel" }, "/api/escalations/x"),
        CreatedAt,
        []);
}
