using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace WinterOps.Functions.Tests;

/// <summary>Small helpers for calling the API and reading problem+json answers.</summary>
public static class Http
{
    public static object Partner(string name = "Bedmoor Hospital (test)", string sector = "acute") => new
    {
        name,
        sector,
        sizeWeight = 600,
        expectedDaily = true,
        contacts = new[] { new { name = "Alex Morgan", entraUserId = "0b9e6c1a-3f7e-4c55-9a58-1d2f6a7b8c9d", role = "On-call director", onCallOrder = 1 } },
    };

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("status").GetInt32().ShouldBe((int)response.StatusCode);
        problem.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace();
        return problem;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
