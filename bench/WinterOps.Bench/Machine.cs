using System.Diagnostics;
using System.Globalization;

namespace WinterOps.Bench;

/// <summary>The machine the bench shares: its load, and the Azurite process it runs on (Linux only).</summary>
internal static class Machine
{
    /// <summary>Other work on the machine skews every number: the load averages (1, 5, 15 min) say how much there was.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "load average unknown";

    /// <summary>The 1-minute load average alone, for table cells.</summary>
    public static string Load1() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>Azurite: our child <c>node</c> process listening on this table port (found through /proc; null elsewhere).</summary>
    public static Process? AzuriteProcess(int tablePort)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var me = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var port = tablePort.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
                var arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var listens = Array.IndexOf(arguments, "--tablePort") is var at and >= 0 && at + 1 < arguments.Length && arguments[at + 1] == port;
                if (parent == me && listens && int.TryParse(Path.GetFileName(dir), out var pid) && Process.GetProcessById(pid) is { ProcessName: "node" } process)
                {
                    return process;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Not a process folder, or the process just exited.
            }
        }

        return null;
    }

    /// <summary>Azurite's CPU time so far (null when its process is not known).</summary>
    public static Func<TimeSpan?> CpuOf(Process? process) => () =>
    {
        process?.Refresh();
        return process?.TotalProcessorTime;
    };
}
