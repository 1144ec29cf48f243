using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using WinterOps.Azure.Storage;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

public class StorageOutageTests
{
    [Fact]
    public async Task StorageDown_Health503AndWrites503_ThenRecovers()
    {
        await using var azurite = await AzuriteServer.StartAsync(persistent: true);
        await using var app = await TestApp.StartAsync(azurite);
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        (await Http.JsonAsync(await app.Client.GetAsync("/api/health"))).GetProperty("storage").GetString().ShouldBe("ok");

        await azurite.StopAsync();
        var health = await app.Client.GetAsync("/api/health");
        var write = await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner());

        health.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        health.Headers.RetryAfter.ShouldNotBeNull();
        write.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        write.Headers.RetryAfter.ShouldNotBeNull();
        await Http.ProblemAsync(write);

        await azurite.RestartAsync();
        (await Http.JsonAsync(await app.Client.GetAsync("/api/health"))).GetProperty("storage").GetString().ShouldBe("ok");
        (await coordinator.GetAsync("/api/partners/RZ1")).StatusCode.ShouldBe(HttpStatusCode.NotFound); // nothing half-written
        (await coordinator.PutAsJsonAsync("/api/partners/RZ1", Http.Partner())).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task StoredDataThisVersionCannotRead_Is500_NotBlamedOnTheRequest()
    {
        await using var app = await TestApp.StartAsync();
        var coordinator = await app.ClientAsAsync("Coordinator", "QZZ");
        var table = app.Get<StorageAccount>().Table(StorageNames.PartnersTable);
        await table.CreateIfNotExistsAsync();
        // As an older version of the code might have left it: details whose data no longer has the shape of its type.
        await table.AddEntityAsync(new TableEntity("RZ9", "partner") { ["Details"] = "{\"name\":[1,2]}", ["Version"] = 1L, ["Announced"] = true });

        var response = await coordinator.GetAsync("/api/partners/RZ9");

        response.StatusCode.ShouldBe(HttpStatusCode.InternalServerError); // the server's fault, logged as an error; not a 400 about a body never sent
        (await Http.ProblemAsync(response)).GetProperty("title").GetString().ShouldBe("An unexpected error occurred.");
    }
}
