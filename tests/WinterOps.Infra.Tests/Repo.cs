using System.Diagnostics;
using System.Reflection;

// The bicep CLI package (linux-x64), deploy.sh and the package's permissions are Linux things.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace WinterOps.Infra.Tests;

/// <summary>The repository, the tools the tests run, and the code's own function list.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Infra => Path.Combine(Root, "infra-bicep");

    /// <summary>The bicep CLI restored from the Azure.Bicep.CommandLine.linux-x64 package (path set by the build).</summary>
    public static string Bicep
    {
        get
        {
            var path = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;
            File.Exists(path).ShouldBeTrue($"bicep CLI not restored at {path}");
            var mode = File.GetUnixFileMode(path);
            if (!mode.HasFlag(UnixFileMode.UserExecute))
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }

            return path;
        }
    }

    /// <summary>The names of the Function App's functions, found as the local host finds them (their [Function] attributes).</summary>
    public static IReadOnlyList<string> CodeFunctions() => WinterOps.LocalHost.LocalHostApp.Functions.Select(f => f.Name).ToList();

    /// <summary>Runs a program in the repository root.</summary>
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(string file, params string[] arguments) =>
        RunInAsync(Root, file, arguments);

    public static async Task<(int ExitCode, string Output, string Error)> RunInAsync(string workingDirectory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WinterOps.sln")) && Directory.Exists(Path.Combine(dir.FullName, "infra-bicep")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root above {AppContext.BaseDirectory}.");
    }
}
