// Zips a folder with each file's Unix permissions in the entry (the Functions host starts the custom
// handler executable straight from the package, so its exec bit must survive), e.g.
//   dotnet run tools/zip.cs -- artifacts/staging/functionapp artifacts/functionapp.zip
using System.IO.Compression;

if (args is not [var source, var destination])
{
    Console.Error.WriteLine("usage: dotnet run tools/zip.cs -- <folder> <file.zip>");
    return 2;
}

if (OperatingSystem.IsWindows())
{
    Console.Error.WriteLine("Run on Linux or macOS (WSL on Windows): the package must carry Unix permissions.");
    return 2;
}

const int RegularFile = 0x8000; // S_IFREG, in the high 16 bits of ExternalAttributes with the mode
File.Delete(destination);
using var zip = ZipFile.Open(destination, ZipArchiveMode.Create);
foreach (var path in Directory.GetFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
{
    var entry = zip.CreateEntryFromFile(path, Path.GetRelativePath(source, path).Replace('\\', '/'), CompressionLevel.Optimal);
    entry.ExternalAttributes = (RegularFile | (int)File.GetUnixFileMode(path)) << 16;
}

return 0;
