using System.Text.Json;
using System.Text.Json.Serialization;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Opel;

/// <summary>
/// The OPEL tables in force: one framework per sector (sectors without one declare a level), the
/// score bands and the pillar weights of the system level. The committed default (frameworks.json,
/// every table marked illustrative) ships inside this assembly; a deployment can replace it with its
/// own file of the same shape.
/// </summary>
public sealed record FrameworkSet(string Version, Bands Bands, IReadOnlyDictionary<Sector, decimal> PillarWeights, IReadOnlyList<Framework> Frameworks)
{
    public Framework? For(Sector sector) => Frameworks.FirstOrDefault(f => f.Sector == sector);

    /// <summary>A misspelt or missing field must fail loudly (declared before Default, which uses it): a threshold silently read as 0 would raise levels.</summary>
    private static readonly JsonSerializerOptions Strict = new(WorkflowJson.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    public static FrameworkSet Default { get; } = Load(ReadDefault());

    /// <summary>Reads and checks a frameworks file; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static FrameworkSet Load(string json)
    {
        FrameworksFile file;
        try
        {
            file = JsonSerializer.Deserialize<FrameworksFile>(json, Strict)
                ?? throw new InvalidDataException("The OPEL frameworks file is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The OPEL frameworks file is not valid: {e.Message}", e);
        }

        var bands = file.Bands ?? Bands.Default;
        if (!(bands.Opel1UpTo < bands.Opel2UpTo && bands.Opel2UpTo < bands.Opel3UpTo))
        {
            throw new InvalidDataException("OPEL bands must rise: opel1UpTo < opel2UpTo < opel3UpTo.");
        }

        var frameworks = new List<Framework>();
        foreach (var f in file.Frameworks)
        {
            foreach (var p in f.Parameters)
            {
                var ordered = p.WorseWhen == Direction.HigherIsWorse
                    ? p.Level2 < p.Level3 && p.Level3 < p.Level4
                    : p.Level2 > p.Level3 && p.Level3 > p.Level4;
                if (!ordered || p.Weight <= 0 || p.Min >= p.Max || string.IsNullOrWhiteSpace(p.Key))
                {
                    throw new InvalidDataException($"OPEL parameter '{p.Key}' ({f.Sector}) needs thresholds in the order of its direction, a weight above 0 and min < max.");
                }
            }

            if (f.Parameters.Select(p => p.Key).Distinct().Count() != f.Parameters.Count || frameworks.Any(x => x.Sector == f.Sector))
            {
                throw new InvalidDataException($"The {f.Sector} framework repeats a parameter or a sector.");
            }

            frameworks.Add(new Framework(f.Sector, file.Version, f.Illustrative, f.Source ?? "", f.Parameters, bands));
        }

        return new FrameworkSet(file.Version, bands, file.PillarWeights ?? Scoring.DefaultPillarWeights, frameworks);
    }

    private static string ReadDefault()
    {
        using var stream = typeof(FrameworkSet).Assembly.GetManifestResourceStream("WinterOps.Core.Opel.frameworks.json")
            ?? throw new InvalidOperationException("The default OPEL frameworks are not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private sealed record FrameworksFile(string Version, List<FrameworkEntry> Frameworks, Bands? Bands = null, Dictionary<Sector, decimal>? PillarWeights = null);

    private sealed record FrameworkEntry(Sector Sector, bool Illustrative, List<Parameter> Parameters, string? Source = null);
}
