using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests.Hosting;

/// <summary>
/// The local host as its own process on a fixed port, for tests that kill it (SIGKILL: no shutdown, partition
/// leases stay owned) and start it again on the same task hub. Leases are short so a restart takes over in seconds.
/// </summary>
internal static class HostProcess
{
    public static Process Start(AzuriteServer azurite, string prefix, int port, IReadOnlyDictionary<string, string>? settings = null)
    {
        var start = new ProcessStartInfo("dotnet", [TestApp.BuildOutput("WinterOps.LocalHost", "WinterOps.LocalHost.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in TestApp.Settings(azurite, prefix))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development";
        start.Environment["urls"] = $"http://127.0.0.1:{port}";
        start.Environment["LocalHost__Durable__LeaseInterval"] = "00:00:06"; // takeover after a kill in seconds, not ~30 s
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills the host at once and waits for it to be gone.</summary>
    public static async Task KillAsync(Process host)
    {
        host.Kill(entireProcessTree: true);
        await host.WaitForExitAsync();
    }

    /// <summary>A client signed in as a demo user, once the host answers (the development issuer's key is new with each start).</summary>
    public static async Task<HttpClient> SignInAsync(int port, string role = "Coordinator", string org = "QZZ", string name = "Sam Carter")
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await client.PostAsJsonAsync("/api/dev/token", new { role, org, name });
                var token = (await Http.JsonAsync(response)).GetProperty("accessToken").GetString();
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return client;
            }
            catch (HttpRequestException) when (attempt < 600)
            {
                await Task.Delay(100); // still starting
            }
        }
    }

    /// <summary>An instance's custom status, read from the task hub's Instances table (what the host last saved); "" before it has one.</summary>
    public static async Task<string> CustomStatusAsync(AzuriteServer azurite, string prefix, string instanceId)
    {
        var tables = new global::Azure.Data.Tables.TableServiceClient(azurite.ConnectionString);
        await foreach (var table in tables.QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "~") < 0))
        {
            if (table.Name.EndsWith("Instances", StringComparison.Ordinal)
                && await tables.GetTableClient(table.Name).GetEntityIfExistsAsync<global::Azure.Data.Tables.TableEntity>(instanceId, "") is { HasValue: true } row
                && row.Value!.GetString("CustomStatus") is { } status)
            {
                return status;
            }
        }

        return "";
    }
}
