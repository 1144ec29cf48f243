using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace WinterOps.Infra.Tests;

/// <summary>`./deploy.sh package` run once into a temporary folder (a self-contained publish: about a minute).</summary>
public sealed class Package : IAsyncLifetime
{
    public const string TeamsSenderClientId = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

    public string Folder { get; } = Directory.CreateTempSubdirectory("winterops-package-").FullName;

    public (int ExitCode, string Output, string Error) Run { get; private set; }

    public ZipArchive FunctionApp { get; private set; } = null!;

    public ZipArchive TeamsApp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Niced: the publish yields the CPU to the timing-sensitive tests of other projects running beside it.
        Run = await Repo.RunAsync("nice", "-n", "15", Path.Combine(Repo.Root, "deploy.sh"), "package", "--output", Folder, "--teams-app-id", TeamsSenderClientId);
        Run.ExitCode.ShouldBe(0, Run.Output + Run.Error);
        FunctionApp = ZipFile.OpenRead(Path.Combine(Folder, "functionapp.zip"));
        TeamsApp = ZipFile.OpenRead(Path.Combine(Folder, "teams-app.zip"));
    }

    public Task DisposeAsync()
    {
        FunctionApp.Dispose();
        TeamsApp.Dispose();
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}

public class PackageTests(Package package) : IClassFixture<Package>
{
    [Fact]
    public void FunctionAppZip_IsAnIsolatedWorkerAppListingExactlyTheCodesFunctions()
    {
        var zip = package.FunctionApp;
        var host = JsonNode.Parse(Read(zip, "host.json"))!;
        host["customHandler"].ShouldBeNull();
        ((string)host["extensions"]!["http"]!["routePrefix"]!).ShouldBe("");
        ((string)host["extensions"]!["durableTask"]!["storageProvider"]!["type"]!).ShouldBe("AzureStorage");
        ((string)JsonNode.Parse(Read(zip, "worker.config.json"))!["description"]!["language"]!).ShouldBe("dotnet-isolated");
        zip.GetEntry("WinterOps.Functions.dll").ShouldNotBeNull();

        var metadata = JsonNode.Parse(Read(zip, "functions.metadata"))!.AsArray();
        metadata.Select(f => (string)f!["name"]!).Order(StringComparer.Ordinal).ShouldBe(Repo.CodeFunctions());
        metadata.SelectMany(f => f!["bindings"]!.AsArray()).Where(b => (string)b!["type"]! == "httpTrigger")
            .ShouldAllBe(b => (string)b!["authLevel"]! == "Anonymous");
    }

    [Fact]
    public void FunctionAppZip_ListsTheDurableExtensionForTheHost()
    {
        var extensions = JsonNode.Parse(Read(package.FunctionApp, "extensions.json"))!["extensions"]!.AsArray();

        extensions.Select(e => (string)e!["name"]!).ShouldContain("DurableTask");
        package.FunctionApp.Entries.ShouldContain(e => e.FullName.StartsWith(".azurefunctions/Microsoft.Azure.WebJobs.Extensions.DurableTask", StringComparison.Ordinal));
    }

    [Fact]
    public void FunctionAppZip_CarriesThePagesAndTheirNpmPackages()
    {
        var names = package.FunctionApp.Entries.Select(e => e.FullName).ToList();

        names.ShouldContain("web/layout.html");
        names.ShouldContain("web/pages/dashboard.js");
        names.ShouldContain("web/lib/nhsuk-frontend.min.css");
        names.ShouldContain("web/lib/chart.umd.min.js");
        names.ShouldContain("web/lib/msal-browser.min.js");
        names.ShouldContain("web/lib/nhsuk/images/favicon.svg");
    }

    [Fact]
    public void FunctionAppZip_CarriesNoLocalSettings()
    {
        var names = package.FunctionApp.Entries.Select(e => e.FullName).ToList();

        names.ShouldNotContain("local.settings.json");
        names.ShouldNotContain("appsettings.Development.json");
        names.ShouldNotContain(n => n.EndsWith("function.json", StringComparison.Ordinal));
        names.ShouldNotContain(n => n.Contains("LocalHost", StringComparison.Ordinal));
    }

    [Fact]
    public void TeamsAppZip_HoldsTheManifestForTheSenderAndItsIcons()
    {
        var zip = package.TeamsApp;
        zip.Entries.Select(e => e.FullName).ShouldBe(["color.png", "manifest.json", "outline.png"], ignoreOrder: true);

        var manifest = JsonNode.Parse(Read(zip, "manifest.json"))!;
        ((string)manifest["manifestVersion"]!).ShouldBe("1.16");
        Guid.TryParse((string)manifest["id"]!, out _).ShouldBeTrue();
        ((string)manifest["webApplicationInfo"]!["id"]!).ShouldBe(Package.TeamsSenderClientId);
        ((string)manifest["webApplicationInfo"]!["resource"]!).ShouldContain(Package.TeamsSenderClientId);
        ((string)manifest["icons"]!["color"]!).ShouldBe("color.png");
        ((string)manifest["icons"]!["outline"]!).ShouldBe("outline.png");
        Read(zip, "manifest.json").ShouldNotContain("{{");

        var color = Png.Decode(ReadBytes(zip, "color.png"));
        (color.Width, color.Height).ShouldBe((192, 192));
        var outline = Png.Decode(ReadBytes(zip, "outline.png"));
        (outline.Width, outline.Height).ShouldBe((32, 32));
        outline.Pixels.ShouldAllBe(p => p.A == 0 || (p.R == 255 && p.G == 255 && p.B == 255), "outline: white on transparent");
        outline.Pixels.ShouldContain(p => p.A == 255);
        outline.Pixels.ShouldContain(p => p.A == 0);
    }

    [Fact]
    public void Package_SaysWhatItWrote()
    {
        package.Run.Output.ShouldContain($"Wrote {package.Folder}/functionapp.zip ({Repo.CodeFunctions().Count} functions)");
        package.Run.Output.ShouldContain($"webApplicationInfo.id {Package.TeamsSenderClientId}");
    }

    private static string Read(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name).ShouldNotBeNull($"{name} in the zip").Open());
        return reader.ReadToEnd();
    }

    private static byte[] ReadBytes(ZipArchive zip, string name)
    {
        using var stream = zip.GetEntry(name).ShouldNotBeNull($"{name} in the zip").Open();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}

/// <summary>Just enough PNG reading for the icons: 8-bit RGBA, not interlaced, any row filter.</summary>
internal static class Png
{
    public sealed record Image(int Width, int Height, IReadOnlyList<(byte R, byte G, byte B, byte A)> Pixels);

    public static Image Decode(byte[] png)
    {
        png.AsSpan(0, 8).ToArray().ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        int width = 0, height = 0;
        var data = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            var body = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(body), BinaryPrimitives.ReadInt32BigEndian(body[4..]));
                (body[8], body[9], body[12]).ShouldBe(((byte)8, (byte)6, (byte)0), "8-bit RGBA, not interlaced");
            }
            else if (type == "IDAT")
            {
                data.Write(body);
            }

            at += length + 12;
        }

        data.Position = 0;
        using var zlib = new ZLibStream(data, CompressionMode.Decompress);
        var stride = width * 4;
        var previous = new byte[stride];
        var pixels = new List<(byte, byte, byte, byte)>(width * height);
        for (var y = 0; y < height; y++)
        {
            var filter = zlib.ReadByte();
            var row = new byte[stride];
            zlib.ReadExactly(row);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= 4 ? row[i - 4] : 0, up = previous[i], upLeft = i >= 4 ? previous[i - 4] : 0;
                row[i] += (byte)(filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG row filter {filter}"),
                });
            }

            for (var x = 0; x < width; x++)
            {
                pixels.Add((row[x * 4], row[(x * 4) + 1], row[(x * 4) + 2], row[(x * 4) + 3]));
            }

            previous = row;
        }

        return new Image(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
