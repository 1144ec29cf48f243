using System.Text.RegularExpressions;
using WinterOps.Azure.Notifications;
using WinterOps.Testing;

namespace WinterOps.Functions.Tests;

/// <summary>
/// docs/messages.md describes every notification type the code can publish, with its CloudEvents
/// type, and nothing the code no longer publishes. The code's types are read from the source, where
/// the deciders name them (the same way the function.json drift test reads the code's functions).
/// </summary>
public sealed partial class MessageCatalogueTests
{
    private static readonly string Root = AzuriteServer.RepoRoot();

    [Fact]
    public void EveryPublishedType_IsInTheCatalogue_AndEveryCatalogueEntryIsPublished()
    {
        var published = PublishedTypes();
        var documented = Catalogue().Keys.ToHashSet(StringComparer.Ordinal);

        published.Count.ShouldBeGreaterThan(15); // the scan found the deciders' notices
        published.Except(documented).ShouldBeEmpty("published but not described in docs/messages.md");
        documented.Except(published).ShouldBeEmpty("described in docs/messages.md but never published");
    }

    [Fact]
    public void EachEntry_GivesTheCloudEventsTypeThePublisherUses_AndAnExample()
    {
        foreach (var (type, text) in Catalogue())
        {
            text.ShouldContain($"**CloudEvents type:** `{CloudEvents.TypeFor(type)}`", customMessage: type);
            text.ShouldContain("**Example data:** `{", customMessage: type);
            text.ShouldContain("**Filter:**", customMessage: type);
        }
    }

    /// <summary>Type names given to a notification where the deciders build one.</summary>
    public static HashSet<string> PublishedTypes() =>
        Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => NoticeType().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The catalogue's sections by event type.</summary>
    public static Dictionary<string, string> Catalogue()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "messages.md"));
        var start = text.IndexOf("## Event types", StringComparison.Ordinal);
        return text[start..].Split("\n### ").Skip(1).ToDictionary(s => s[..s.IndexOf('\n', StringComparison.Ordinal)].Trim(), s => s, StringComparer.Ordinal);
    }

    [GeneratedRegex("""(?:Notification|Note|ToHome|ToTeam|ToPartners)\(\s*(?:state,\s*(?:[\w.]+,\s*)?)?"([A-Z][A-Za-z]+)""")]
    private static partial Regex NoticeType();
}
