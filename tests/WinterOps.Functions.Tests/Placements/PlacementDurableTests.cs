using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Storage;
using WinterOps.Functions.Tests.Hosting;
using WinterOps.LocalHost;
using WinterOps.Testing;
using static WinterOps.Functions.Tests.Placements.Brokerage;

namespace WinterOps.Functions.Tests.Placements;

/// <summary>The placement as a Durable orchestration on real Azurite: one instance per placement, at scale, private, and across crashes.</summary>
public class PlacementDurableTests
{
    private static readonly string[] Localities = ["Bedmoor"];

    [Fact]
    public async Task TwoHundredPlacements_From16Clients_Are200Instances_WithNoDuplicateOffers()
    {
        await using var b = await StartAsync();
        string[] homes = [.. await Task.WhenAll(Enumerable.Range(1, 6).Select(i => b.AddHomeAsync(Cqc(i), vacantAccepting: 900, maxCapacity: 1000, occupied: 10)))];
        var next = 0;
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= 200)
            {
                var placement = await b.RequestAsync();
                OfferedHomes(placement).Length.ShouldBe(3);
                ids.Add(Id(placement));
            }
        }));

        ids.Distinct().Count().ShouldBe(200);
        var client = b.App.Get<IDurableTaskClientProvider>().GetClient();
        foreach (var id in ids)
        {
            (await client.GetInstanceAsync(id))!.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Running, id);
        }

        // Each placement's offers went once to each of three distinct homes; every home's offer list has each placement once.
        var list = await Http.JsonAsync(await b.Coordinator.GetAsync("/api/placements"));
        list.GetArrayLength().ShouldBe(200);
        foreach (var placement in list.EnumerateArray())
        {
            OfferedHomes(placement).Distinct().Count().ShouldBe(3);
        }

        await Task.WhenAll(ids.Select(b.SettledAsync));
        var boardRows = 0;
        foreach (var home in homes)
        {
            var offers = await Http.JsonAsync(await (await b.BrokerAsync(home)).GetAsync($"/api/care-homes/{home}/offers"));
            var placements = offers.EnumerateArray().Select(o => o.GetProperty("placementId").GetString()).ToList();
            placements.Distinct().Count().ShouldBe(placements.Count, home);
            boardRows += placements.Count;
        }

        boardRows.ShouldBe(600);
    }

    [Fact]
    public async Task AnAcceptance_NotDecidedWithinTheWait_Is202WithALocation_ThatAnswersTheDecisionOnceMade()
    {
        await using var b = await StartAsync(decisionWait: TimeSpan.Zero); // answer at once: the decision is always still to come
        var home = await b.AddHomeAsync(Cqc(1));
        var posted = await b.PostRequestAsync(b.RequestBody()); // with no wait even the request may answer 202, before the offers are out
        posted.StatusCode.ShouldBeOneOf(HttpStatusCode.Created, HttpStatusCode.Accepted);
        var id = posted.Headers.Location!.ToString().Split('/')[^1];
        var shown = await Http.JsonAsync(await b.Coordinator.GetAsync($"/api/placements/{id}")); // shown at once: requested, or already offered
        Status(shown).ShouldBeOneOf("requested", "awaitingResponses");
        var matched = await EventuallyAsync(() => b.GetPlacementAsync(id), p => Status(p) != "requested", "the homes to be ranked");
        OfferStatus(matched, home).ShouldBe("open");
        var broker = await b.BrokerAsync(home);

        var accepted = await b.AcceptAsync(id, home);

        accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        var location = accepted.Headers.Location!.ToString();
        location.ShouldStartWith($"/api/placements/{id}/responses/");
        accepted.Headers.RetryAfter.ShouldNotBeNull();
        var decided = await EventuallyAsync(() => broker.GetAsync(location), r => r.StatusCode != HttpStatusCode.Accepted, "the decision");
        decided.StatusCode.ShouldBe(HttpStatusCode.OK, await decided.Content.ReadAsStringAsync());
        Status(await Http.JsonAsync(decided)).ShouldBe("booked");
        (await b.Team.GetAsync(location)).StatusCode.ShouldBe(HttpStatusCode.NotFound); // not the team's response

        // A second home's acceptance after the booking is refused by the rules at once, without asking the orchestration.
        var late = await b.AcceptAsync(id, home);
        late.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await Http.ProblemAsync(late)).GetProperty("detail").GetString()!.ShouldContain("already booked");
    }

    [Fact]
    public async Task EveryChangeToAHome_IsAudited_WithWhoAndWhen()
    {
        await using var b = await StartAsync();
        var home = await b.AddHomeAsync(Cqc(1));
        var id = Id(await b.RequestAsync());
        (await b.AcceptAsync(id, home)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var rows = new List<TableEntity>();
        await foreach (var row in b.App.Get<StorageAccount>().Table(StorageNames.CareHomesTable)
            .QueryAsync<TableEntity>($"PartitionKey eq '{home}' and RowKey ge 'event-' and RowKey lt 'event.'"))
        {
            rows.Add(row);
        }

        rows.Select(r => r.GetString("Type")).ShouldBe(["CareHomeRegistered", "VacanciesReported", "BedReserved"]);
        rows.Select(r => r.GetString("ByName")).ShouldBe([CoordinatorName, BrokerName(home), $"placement {id}"]);
        rows.Select(r => r.GetInt64("Version")).ShouldBe([1L, 2L, 3L]);
        (await b.GetHomeAsync(home)).GetProperty("version").GetInt64().ShouldBe(3);
    }

    [Fact]
    public async Task ARetriedRequest_WithTheSameKey_AfterThePlacementCompleted_CreatesNothingNew()
    {
        await using var b = await StartAsync();
        await b.AddHomeAsync(Cqc(1));
        var body = b.RequestBody();
        async Task<HttpResponseMessage> Send()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/placements") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "referral-TEST-retry");
            return await b.Team.SendAsync(request);
        }

        var first = await Send();
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var id = Id(await Http.JsonAsync(first));
        Status(await Http.JsonAsync(await b.CancelAsync(id))).ShouldBe("cancelled");
        var client = b.App.Get<IDurableTaskClientProvider>().GetClient();
        await EventuallyAsync(() => client.GetInstanceAsync(id), i => i?.RuntimeStatus == OrchestrationRuntimeStatus.Completed, "the orchestration to complete");
        var rows = await b.StoredRowsAsync();

        var again = await Send();

        again.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.Headers.Location.ShouldBe(first.Headers.Location);
        (await b.StoredRowsAsync()).ShouldBe(rows);
        (await client.GetInstanceAsync(id))!.RuntimeStatus.ShouldBe(OrchestrationRuntimeStatus.Completed);
        (await Http.JsonAsync(await b.Coordinator.GetAsync("/api/placements"))).GetArrayLength().ShouldBe(1);
        Status(await b.GetPlacementAsync(id)).ShouldBe("cancelled");
    }

    [Fact]
    public async Task NoPatientReference_NhsNumber_NeedsText_OrPeoplesWords_ReachTheTaskHub()
    {
        await using var b = await StartAsync();
        var h1 = await b.AddHomeAsync(Cqc(1), cqcRating: "outstanding");
        var h2 = await b.AddHomeAsync(Cqc(2));
        var body = b.RequestBody();
        body["patientRef"] = "PLANTED-REF-7731";
        body["needsSummary"] = "Planted needs text: hoist zebra-7731.";
        var id = Id(await b.RequestAsync(body));
        (await b.DeclineAsync(id, h1, "other", "Planted decline comment zebra-7732.")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await b.AcceptAsync(id, h2)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await b.CancelAsync(id, "Planted cancel reason zebra-7733.")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await b.SettledAsync(id);
        string[] planted = ["PLANTED-REF-7731", (string)body["nhsNumber"]!, "zebra-7731", "zebra-7732", "zebra-7733", "Morgan Manager", TeamName];

        var hub = LocalHostApp.TaskHubName(b.App.Services);
        var connection = b.App.Get<Microsoft.Extensions.Configuration.IConfiguration>()["AzureWebJobsStorage"]!;
        var hubText = new System.Text.StringBuilder();
        var tables = new TableServiceClient(connection);
        var hubTables = 0;
        await foreach (var table in tables.QueryAsync(t => t.Name.CompareTo(hub) >= 0 && t.Name.CompareTo(hub + "~") < 0))
        {
            hubTables++;
            await foreach (var row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                hubText.AppendLine(JsonSerializer.Serialize(row));
            }
        }

        var queues = new QueueServiceClient(connection);
        await foreach (var queue in queues.GetQueuesAsync(prefix: hub.ToLowerInvariant()))
        {
            foreach (var message in (await queues.GetQueueClient(queue.Name).PeekMessagesAsync(32)).Value)
            {
                hubText.AppendLine(message.Body.ToString());
            }
        }

        hubTables.ShouldBeGreaterThanOrEqualTo(2); // History and Instances at least
        hubText.ToString().ShouldContain(id); // the scan reads what the orchestration wrote
        foreach (var text in planted)
        {
            hubText.ToString().ShouldNotContain(text, Case.Insensitive);
        }

        // The placement's own rows do hold them: that is where they belong.
        var own = new System.Text.StringBuilder();
        await foreach (var row in b.App.Get<StorageAccount>().Table(StorageNames.PlacementsTable).QueryAsync<TableEntity>($"PartitionKey eq '{id}'"))
        {
            own.AppendLine(JsonSerializer.Serialize(row));
        }

        foreach (var text in planted)
        {
            own.ToString().ShouldContain(text, Case.Insensitive);
        }
    }

    [Fact]
    public async Task APlacementWithOpenOffers_SurvivesAHardKillOfTheHost_AndAcceptingItAfterwardsBooksIt()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "k" + Guid.NewGuid().ToString("N")[..12];
        var port = AzuriteServer.FreePort();
        var settings = new Dictionary<string, string> { ["Placements:DecisionWait"] = "00:00:45" }; // the takeover after a kill can take a while
        var home = Cqc(1);
        string id;
        using (var first = HostProcess.Start(azurite, prefix, port, settings))
        {
            try
            {
                id = await RequestWithOneHomeAsync(port, home);
                await WaitingAsync(azurite, prefix, id); // killed while it waits on its offers, not mid-step (see below)
            }
            finally
            {
                await HostProcess.KillAsync(first);
            }
        }

        using var second = HostProcess.Start(azurite, prefix, port, settings);
        try
        {
            var broker = await HostProcess.SignInAsync(port, "Broker", home, BrokerName(home));
            var accepted = await broker.PostAsJsonAsync(
                $"/api/placements/{id}/offers/{home}/accept", new { admissionDate = Iso(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(2)), contactName = "Morgan Manager (test)" });

            accepted.StatusCode.ShouldBe(HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
            var booked = await Http.JsonAsync(accepted);
            Status(booked).ShouldBe("booked");
            booked.GetProperty("booking").GetProperty("cqcLocationId").GetString().ShouldBe(home);
            var coordinator = await HostProcess.SignInAsync(port);
            var beds = (await Http.JsonAsync(await coordinator.GetAsync($"/api/care-homes/{home}"))).GetProperty("beds").GetProperty("nursing");
            beds.GetProperty("heldByWinterOps").GetInt32().ShouldBe(1);
        }
        finally
        {
            await HostProcess.KillAsync(second);
        }
    }

    [Fact]
    public async Task AnOfferWhoseWindowPassedWhileTheHostWasDown_ExpiresWhenItIsBack_AndTheNextRoundGoesOut()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "k" + Guid.NewGuid().ToString("N")[..12];
        var port = AzuriteServer.FreePort();
        var settings = new Dictionary<string, string> { ["Placements:ResponseWindow"] = "00:00:05", ["Placements:OffersPerRound"] = "1" };
        var (best, next) = (Cqc(1), Cqc(2));
        string id;
        DateTimeOffset expiresAt;
        using (var first = HostProcess.Start(azurite, prefix, port, settings))
        {
            try
            {
                var coordinator = await HostProcess.SignInAsync(port);
                await AddHomeAsync(port, coordinator, next, "good");
                id = await RequestWithOneHomeAsync(port, best);
                var placement = await Http.JsonAsync(await coordinator.GetAsync($"/api/placements/{id}"));
                OfferedHomes(placement).ShouldBe([best]);
                expiresAt = Offers(placement).Single().GetProperty("expiresAt").GetDateTimeOffset();
                await WaitingAsync(azurite, prefix, id);
            }
            finally
            {
                await HostProcess.KillAsync(first);
            }
        }

        // Down until the offer's window has passed.
        var downFor = expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        if (downFor > TimeSpan.Zero)
        {
            await Task.Delay(downFor);
        }

        using var second = HostProcess.Start(azurite, prefix, port, settings);
        try
        {
            var coordinator = await HostProcess.SignInAsync(port);
            var later = await EventuallyAsync(
                async () => await Http.JsonAsync(await coordinator.GetAsync($"/api/placements/{id}")),
                p => p.GetProperty("round").GetInt32() >= 2, "round 2 after the restart", TimeSpan.FromSeconds(90));

            OfferStatus(later, best).ShouldBe("expired");
            OfferedHomes(later, round: 2).ShouldBe([next]);
        }
        finally
        {
            await HostProcess.KillAsync(second);
        }
    }

    /// <summary>
    /// Waits until the instance has finished its step and waits on its offers: its custom status, read from the task
    /// hub's Instances table, names the placement's version after round 1 (2). A kill in the middle of a step leaves
    /// the queue message being processed invisible for the provider's visibility timeout (5 minutes by default) before
    /// the next host sees it; that recovery time is the provider's, and not what these tests are about.
    /// </summary>
    private static async Task WaitingAsync(AzuriteServer azurite, string prefix, string placementId)
    {
        await EventuallyAsync(
            () => HostProcess.CustomStatusAsync(azurite, prefix, placementId),
            status => status.Contains("\"version\":2", StringComparison.Ordinal), "the instance to wait on its offers");
    }

    /// <summary>Registers a home (the best-rated), reports its vacancies, and requests a placement that offers it; returns the placement id.</summary>
    private static async Task<string> RequestWithOneHomeAsync(int port, string home)
    {
        var coordinator = await HostProcess.SignInAsync(port);
        await AddHomeAsync(port, coordinator, home, "outstanding");
        var team = await HostProcess.SignInAsync(port, "DischargeTeam", ReferringOrg, TeamName);
        var requested = await team.PostAsJsonAsync("/api/placements", new
        {
            patientRef = "TEST-9001", referringOrg = ReferringOrg, pathway = "P2", bedType = "nursing", fundingRoute = "chc",
            preferredLocalities = Localities, requiredBy = Iso(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(3)), clinicalFlags = Array.Empty<string>(),
        });
        requested.StatusCode.ShouldBe(HttpStatusCode.Created, await requested.Content.ReadAsStringAsync());
        var placement = await Http.JsonAsync(requested);
        OfferStatus(placement, home).ShouldBe("open");
        return Id(placement);
    }

    private static async Task AddHomeAsync(int port, HttpClient coordinator, string home, string rating)
    {
        (await coordinator.PutAsJsonAsync($"/api/care-homes/{home}", HomeBody($"Synthetic Home {home}", "Bedmoor", rating, ["nursing"])))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        var broker = await HostProcess.SignInAsync(port, "Broker", home, BrokerName(home));
        (await broker.PutAsJsonAsync($"/api/care-homes/{home}/vacancies", VacanciesBody(DateTimeOffset.UtcNow, 20, 10, 0, 2))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
