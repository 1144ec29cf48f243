using System.Net;
using System.Net.Http.Json;
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
}
