using System.Net;
using System.Text.Json;
using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

/// <summary><c>GET /api/inbox</c>: newest first, paged with the Link header's cursor, and each caller sees only its own.</summary>
public sealed class InboxTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Pages_NewestFirst_ThroughTheLinkHeader_EachItemOnce()
    {
        await using var app = await TestApp.StartAsync();
        var inbox = app.Get<InboxStore>();
        for (var i = 1; i <= 5; i++)
        {
            await inbox.DeliverAsync($"n{i}", Notice($"Notice {i}", Recipient.Org("RZ1")), Start.AddMinutes(i), default);
        }

        // Addressed both to the team's organisation and to its role: one item, not two.
        await inbox.DeliverAsync("n6", Notice("Notice 6", Recipient.Org("RZ1"), Recipient.Role("DischargeTeam")), Start.AddMinutes(6), default);
        using var team = await app.ClientAsAsync("DischargeTeam", "RZ1");

        var pages = new List<List<string>>();
        var url = "/api/inbox?limit=2";
        while (url is not null)
        {
            var response = await team.GetAsync(url);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            pages.Add((await Http.JsonAsync(response)).EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList());
            url = Next(response);
        }

        pages.ShouldBe([["n6", "n5"], ["n4", "n3"], ["n2", "n1"]], ignoreOrder: false);

        // since narrows every page; the next link keeps it.
        var first = await team.GetAsync($"/api/inbox?limit=2&since={Uri.EscapeDataString(Start.AddMinutes(3).ToString("O"))}");
        Ids(await Http.JsonAsync(first)).ShouldBe(["n6", "n5"]);
        var second = await team.GetAsync(Next(first)!);
        Ids(await Http.JsonAsync(second)).ShouldBe(["n4"]);
        Next(second).ShouldBeNull();
    }

    [Fact]
    public async Task RowsWithTheSameOutboxIdAtDifferentTimes_AreEachReachedOnce_AcrossPageBoundaries()
    {
        await using var app = await TestApp.StartAsync();
        var inbox = app.Get<InboxStore>();
        await inbox.DeliverAsync("n1", Notice("Notice 1", Recipient.Role("Coordinator")), Start.AddMinutes(1), default);
        await inbox.DeliverAsync("n2", Notice("Notice 2", Recipient.Role("Coordinator")), Start.AddMinutes(2), default);
        foreach (var minutes in new[] { 60, 75, 90 })
        {
            await inbox.DeliverAsync("same", Notice("Same id, another time", Recipient.Role("Coordinator")), Start.AddMinutes(minutes), default);
        }

        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        var seen = new List<string>();
        var url = "/api/inbox?limit=2";
        while (url is not null)
        {
            var response = await coordinator.GetAsync(url);
            seen.AddRange((await Http.JsonAsync(response)).EnumerateArray().Select(i => $"{i.GetProperty("id").GetString()}@{i.GetProperty("createdAt").GetDateTimeOffset():HH:mm}"));
            url = Next(response);
        }

        seen.ShouldBe(["same@10:30", "same@10:15", "same@10:00", "n2@09:02", "n1@09:01"]);
    }

    [Fact]
    public async Task ABroker_SeesItsOwnHomesNotices_NotOtherHomesNorRoleWideOnes()
    {
        await using var app = await TestApp.StartAsync();
        var inbox = app.Get<InboxStore>();
        await inbox.DeliverAsync("home-a", Notice("Offer to A", Recipient.Org("1-1000000601")), Start, default);
        await inbox.DeliverAsync("home-b", Notice("Offer to B", Recipient.Org("1-1000000602")), Start.AddMinutes(1), default);
        await inbox.DeliverAsync("all-brokers", Notice("To every broker", Recipient.Role("Broker")), Start.AddMinutes(2), default);
        await inbox.DeliverAsync("coordinators", Notice("To coordinators", Recipient.Role("Coordinator")), Start.AddMinutes(3), default);

        using var brokerA = await app.ClientAsAsync("Broker", "1-1000000601");
        using var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");

        Ids(await Http.JsonAsync(await brokerA.GetAsync("/api/inbox"))).ShouldBe(["home-a"]);
        Ids(await Http.JsonAsync(await coordinator.GetAsync("/api/inbox"))).ShouldBe(["coordinators"]);
    }

    [Theory]
    [InlineData("before=garbage")]
    [InlineData("before=00000000000000000000")]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    public async Task BadPagingParameters_Are400Problems(string query)
    {
        await using var app = await TestApp.StartAsync();
        using var team = await app.ClientAsAsync("DischargeTeam", "RZ1");

        var response = await team.GetAsync($"/api/inbox?{query}");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        await Http.ProblemAsync(response);
    }

    private static Notification Notice(string title, Recipient to, params Recipient[] alsoTo) =>
        new("PartnerRegistered", to, title, "test", new Dictionary<string, string> { ["odsCode"] = "RZ1" }, AlsoTo: alsoTo.Length > 0 ? alsoTo : null);

    private static List<string> Ids(JsonElement items) => items.EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();

    /// <summary>The <c>rel="next"</c> URL of the Link header, or null on the last page.</summary>
    private static string? Next(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Link", out var links) && links.Single() is var link && link.EndsWith("; rel=\"next\"", StringComparison.Ordinal)
            ? link[1..link.IndexOf('>', StringComparison.Ordinal)]
            : null;
}
