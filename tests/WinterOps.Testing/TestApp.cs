using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WinterOps.Functions;
using WinterOps.Functions.Operations;
using WinterOps.LocalHost;

namespace WinterOps.Testing;

/// <summary>
/// The real WinterOps functions in the local host on a free loopback port over real HTTP, on a real Azurite,
/// with their own table, queue and task hub names (a unique prefix), so tests run in parallel without seeing
/// each other's data.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, string prefix, Uri baseAddress)
    {
        _app = app;
        Prefix = prefix;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public string Prefix { get; }

    /// <summary>
    /// Starts the app. The timer functions are off unless asked for
    /// (<paramref name="localTriggers"/>), so tests drive them. <paramref name="time"/> replaces the clock (e.g. a FakeTimeProvider); settings can be
    /// overridden in <paramref name="configure"/> (builder.Configuration["Placements:ResponseWindow"] = ...).
    /// <paramref name="prefix"/> reuses another app's prefix (its tables, queues and task hub), for a restart; a new one otherwise.
    /// </summary>
    public static async Task<TestApp> StartAsync(
        AzuriteServer? azurite = null,
        string environment = "Development",
        bool localTriggers = false,
        Action<WebApplicationBuilder>? configure = null,
        TimeProvider? time = null,
        string? prefix = null)
    {
        azurite ??= await AzuriteServer.Shared;
        prefix ??= "t" + Guid.NewGuid().ToString("N")[..12];
        var app = LocalHostApp.Build(["--environment", environment], builder =>
        {
            builder.Configuration["urls"] = "http://127.0.0.1:0";
            builder.Configuration.AddInMemoryCollection(Settings(azurite, prefix, environment, localTriggers));

            if (Environment.GetEnvironmentVariable("WINTEROPS_TEST_LOGS") != "1")
            {
                builder.Logging.ClearProviders();
            }

            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        await app.Services.GetRequiredService<StorageProvisioner>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
        return new TestApp(app, prefix, new Uri(address));
    }

    /// <summary>
    /// The settings a test app runs with (configuration keys, ':'-separated): the Azurite connection, its own name prefix,
    /// the timers on or off, and the development issuer in Development (an Entra authority elsewhere).
    /// </summary>
    public static Dictionary<string, string?> Settings(AzuriteServer azurite, string prefix, string environment = "Development", bool localTriggers = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage"] = azurite.ConnectionString,
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["StorageNamePrefix"] = prefix,
        };
        foreach (var timer in LocalHostApp.Functions.Where(f => f.Trigger is LocalTrigger.Timer))
        {
            settings[$"AzureWebJobs:{timer.Name}:Disabled"] = localTriggers ? "false" : "true";
        }

        if (environment == "Development")
        {
            settings["Auth:DevelopmentIssuer"] = "true";
        }
        else
        {
            settings["Auth:Authority"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";
            settings["Auth:Audience"] = "api://winterops-test";
        }

        return settings;
    }

    /// <summary>Where the build put a repository project's output, in the configuration these tests were built in.</summary>
    public static string BuildOutput(string project, string file)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        return Path.Combine(AzuriteServer.RepoRoot(), "src", project, "bin", configuration, "net10.0", file);
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>A client acting as a demo user (a token from the development issuer).</summary>
    public async Task<HttpClient> ClientAsAsync(string role, string? org = null, string name = "Test User")
    {
        var response = await Client.PostAsJsonAsync("/api/dev/token", new { role, org, name });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<DevTokenResponse>())!.AccessToken;
        var client = new HttpClient { BaseAddress = Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
