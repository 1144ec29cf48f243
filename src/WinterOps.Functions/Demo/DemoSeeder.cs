using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Demo;

/// <summary>
/// Seeds illustrative demo data (Demo__Seed=true, set by ./run.sh) through the same command handler
/// the API uses. Idempotent: a partner whose details are unchanged produces no event.
/// </summary>
public sealed partial class DemoSeeder(
    StorageProvisioner provisioner, CommandHandler handler, TimeProvider time, ILogger<DemoSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.Ready.WaitAsync(stoppingToken);
        var actor = Actor.System("demo-seed");
        var changed = 0;
        foreach (var (odsCode, details) in DemoData.Partners)
        {
            var result = await handler.HandleAsync(
                PartnerWorkflow.Definition, odsCode, new PartnerCommand.SetDetails(odsCode, details),
                new CommandContext($"demo-seed-{odsCode}-{time.GetUtcNow():yyyyMMddHHmmss}", actor, time.GetUtcNow()),
                cancellationToken: stoppingToken);
            changed += result.NewEvents.Count;
        }

        LogSeeded(DemoData.Partners.Count, changed);
    }

    [LoggerMessage(LogLevel.Information, "Demo data: {Partners} partners present, {Changed} changed")]
    private partial void LogSeeded(int partners, int changed);
}

/// <summary>
/// A fictional ICS shaped like Bedfordshire, Luton and Milton Keynes: three acute trusts, community,
/// mental health, ambulance and NHS 111 providers, four councils and the ICB's coordination centre.
/// Names, codes and people are synthetic.
/// </summary>
public static class DemoData
{
    public static IReadOnlyList<(string OdsCode, PartnerDetails Details)> Partners { get; } =
    [
        ("QZZ", Partner("Ouseland ICB System Coordination Centre", Sector.PrimaryCare, 1, false, "Sam Carter")),
        ("RZ1", Partner("Bedmoor Hospital (demo acute trust)", Sector.Acute, 620, true, "Alex Morgan", "Jo Patel")),
        ("RZ2", Partner("Lutonbury General Hospital (demo acute trust)", Sector.Acute, 680, true, "Chris Evans", "Priya Shah")),
        ("RZ3", Partner("Kingsmead University Hospital (demo acute trust)", Sector.Acute, 540, true, "Dana Brooks", "Lee Walsh")),
        ("RZ4", Partner("Ouseland Community Health (demo)", Sector.Community, 180, true, "Morgan Reid")),
        ("RZ5", Partner("Ouseland Mental Health Partnership (demo)", Sector.MentalHealth, 240, true, "Robin Hale")),
        ("RZ6", Partner("Eastern Counties Ambulance Service (demo)", Sector.Ambulance, 300, true, "Taylor Quinn")),
        ("RZ7", Partner("Ouseland NHS 111 (demo)", Sector.Nhs111, 50, true, "Jamie Fox")),
        ("LZ1", Partner("Bedmoor Borough Council (demo)", Sector.SocialCare, 100, true, "Casey Lane")),
        ("LZ2", Partner("Central Ouseland Council (demo)", Sector.SocialCare, 140, true, "Avery Stone")),
        ("LZ3", Partner("Lutonbury Borough Council (demo)", Sector.SocialCare, 110, true, "Riley Moss")),
        ("LZ4", Partner("Kingsmead City Council (demo)", Sector.SocialCare, 130, true, "Jordan Bell")),
    ];

    private static PartnerDetails Partner(string name, Sector sector, decimal sizeWeight, bool expectedDaily, params string[] onCall) =>
        new(name, sector, sizeWeight, expectedDaily, onCall.Select((person, i) => new Contact(
            person, DemoUserId(person), i == 0 ? "On-call director" : "Deputy on-call director", i + 1)).ToList());

    /// <summary>A stable, obviously synthetic Entra object id per demo person.</summary>
    private static string DemoUserId(string person) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(person))[..16]).ToString();
}
