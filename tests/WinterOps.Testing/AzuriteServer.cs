using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WinterOps.Testing;

/// <summary>
/// A real Azurite (the repo's npm copy) on free loopback ports, started by the tests themselves.
/// <see cref="Shared"/> is one in-memory instance per test process (tests isolate themselves with a
/// storage name prefix); <see cref="StartAsync"/> makes a private one, e.g. to stop and restart it.
/// Killed when disposed or when the test process exits.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    // The well-known, public development account of every Azure storage emulator: not a secret.
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task<AzuriteServer>> SharedInstance = new(() => StartAsync());

    private readonly string? _location;
    private Process? _process;

    private AzuriteServer(int blobPort, int queuePort, int tablePort, string? location)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        _location = location;
    }

    public static Task<AzuriteServer> Shared => SharedInstance.Value;

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{Account};QueueEndpoint=http://127.0.0.1:{QueuePort}/{Account};TableEndpoint=http://127.0.0.1:{TablePort}/{Account};";

    /// <summary>Starts an instance: in memory, or persisted to a temporary folder (so it survives <see cref="StopAsync"/>).</summary>
    public static async Task<AzuriteServer> StartAsync(bool persistent = false)
    {
        var location = persistent ? Directory.CreateTempSubdirectory("winterops-azurite-").FullName : null;
        var server = new AzuriteServer(FreePort(), FreePort(), FreePort(), location);
        await server.StartProcessAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    }

    /// <summary>Stops the process (simulating a storage outage); <see cref="RestartAsync"/> brings it back on the same ports.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        // SIGTERM lets Azurite write its database to disk, as a storage outage would not lose tables.
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await process.WaitForExitAsync();
        }
    }

    public Task RestartAsync() => StartProcessAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_location is not null)
        {
            try
            {
                Directory.Delete(_location, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open; the temp folder is cleaned by the OS.
            }
        }
    }

    private async Task StartProcessAsync()
    {
        var root = RepoRoot();
        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}: run `npm ci` in {root} (./test.sh does).");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Azurite ends itself when the test process is gone, even if that process was killed
        // (a ProcessExit handler does not run then): no orphan emulators between runs.
        start.Environment["WINTEROPS_TEST_PARENT"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var arg in new[]
                 {
                     "--require", Watchdog.Value, script, "--silent", "--skipApiVersionCheck", "--disableTelemetry",
                     "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(arg);
        }

        if (_location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_location);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await Listening(TablePort) || !await Listening(QueuePort))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Azurite did not start on ports {QueuePort}/{TablePort}.");
            }

            await Task.Delay(50);
        }
    }

    private static readonly Lazy<string> Watchdog = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"winterops-azurite-watchdog-{Environment.ProcessId}.js");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        File.WriteAllText(path, """
            const parent = Number(process.env.WINTEROPS_TEST_PARENT);
            setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 1000).unref();
            """);
        return path;
    });

    private void Kill()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task<bool> Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A free loopback port (for a server a test starts itself).</summary>
    /// <remarks>
    /// Never the same port twice in one test process: the kernel soon hands a released port out again, and two servers
    /// given one port (Azurite and a fake broker started in parallel) would make one of them fail, or answer for the other.
    /// </remarks>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>The repository root: the folder holding package.json above the test binaries.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "package.json")) && File.Exists(Path.Combine(dir.FullName, "WinterOps.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (package.json next to WinterOps.sln).");
    }
}
