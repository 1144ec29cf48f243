using WinterOps.Core.CareHomes;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Partners;

namespace WinterOps.Functions.Demo;

/// <summary>
/// Seeds illustrative demo data (Demo__Seed=true, set by ./run.sh) through the same stores the API
/// uses. Idempotent: a partner or home whose details are unchanged is not changed. It seeds while the
/// app starts, before the host serves requests, so the first request of a demo already sees every home's
/// vacancies (a placement asked for a moment too early was otherwise unplaced).
/// </summary>
public sealed partial class DemoSeeder(
    StorageProvisioner provisioner, PartnerStore partners, CareHomeStore homes, TimeProvider time, ILogger<DemoSeeder> logger) : IHostedService
{
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await provisioner.Ready.WaitAsync(cancellationToken);
        var actor = Actor.System("demo-seed");
        var changed = 0;
        foreach (var (odsCode, details) in DemoData.Partners)
        {
            var (partner, registered) = await partners.SetDetailsAsync(odsCode, details, actor, time.GetUtcNow(), null, cancellationToken);
            changed += registered ? 1 : 0;
            if (!partner.Announced)
            {
                // The demo's own partners: nobody registered them, so the coordination centre is not told of them.
                await partners.MarkAnnouncedAsync(odsCode, cancellationToken);
            }
        }

        foreach (var (cqcLocationId, details, beds) in DemoData.CareHomes)
        {
            var (home, registered) = await homes.ApplyAsync(cqcLocationId, new CareHomeCommand.SetDetails(cqcLocationId, details), actor, time.GetUtcNow(), null, cancellationToken);
            changed += registered ? 1 : 0;
            if (home.Home.VacanciesAsOf is null)
            {
                await homes.ApplyAsync(cqcLocationId, new CareHomeCommand.ReportVacancies(time.GetUtcNow(), beds), actor, time.GetUtcNow(), null, cancellationToken);
                changed++;
            }
        }

        LogSeeded(DemoData.Partners.Count, DemoData.CareHomes.Count, changed);
    }

    [LoggerMessage(LogLevel.Information, "Demo data: {Partners} partners and {CareHomes} care homes present, {Changed} changes")]
    private partial void LogSeeded(int partners, int careHomes, int changed);
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

    // Declared before the lists built from it (static initialisers run in text order).
    private static readonly string[] HomeNames =
    [
        "Willow House", "Oakfield Lodge", "Riverside Court", "Beech Grange", "Meadowview", "The Elms", "Cedar Park", "Ashdown Manor",
    ];

    public static IReadOnlyList<string> Localities { get; } = ["Bedmoor", "Central Ouseland", "Lutonbury", "Kingsmead"];

    /// <summary>
    /// 32 fictional care homes, eight per locality, with plausible Capacity Tracker figures. CQC
    /// location ids are synthetic (1-90000000NN). Brokers act with org = the home's id.
    /// </summary>
    public static IReadOnlyList<(string CqcLocationId, CareHomeDetails Details, IReadOnlyDictionary<BedType, BedCount> Beds)> CareHomes { get; } =
        Enumerable.Range(1, 32).Select(Home).ToList();

    private static (string, CareHomeDetails, IReadOnlyDictionary<BedType, BedCount>) Home(int n)
    {
        var locality = Localities[(n - 1) % Localities.Count];
        var bedTypes = (n % 4) switch
        {
            0 => new[] { BedType.Residential, BedType.ResidentialDementia },
            1 => [BedType.Nursing, BedType.NursingDementia],
            2 => [BedType.Residential, BedType.Nursing],
            _ => [BedType.Residential, BedType.Nursing, BedType.ResidentialDementia, BedType.NursingDementia],
        };
        var exclusions = (n % 5) switch
        {
            0 => new[] { ClinicalNeed.Bariatric },
            1 => [ClinicalNeed.Tracheostomy, ClinicalNeed.Dialysis],
            2 => [ClinicalNeed.ChallengingBehaviour],
            _ => [],
        };
        var rating = (n % 7) switch { 0 => CqcRating.Outstanding, 3 => CqcRating.RequiresImprovement, 5 => CqcRating.NotYetRated, _ => CqcRating.Good };
        var details = new CareHomeDetails(
            $"{HomeNames[(n - 1) % HomeNames.Length]} {locality} (demo)", locality, bedTypes, exclusions, rating,
            [new BrokerContact($"Broker {n}", DemoUserId($"broker-{n}"), null)]);
        var beds = bedTypes.ToDictionary(
            t => t,
            t =>
            {
                var capacity = 20 + (n * 7 % 30);
                var accepting = (n + (int)t) % 4; // 0 to 3 free beds: some homes are full
                var reserved = (n + (int)t) % 2;
                return new BedCount(capacity, capacity - accepting - reserved, reserved, accepting);
            });
        return ($"1-90000000{n:D2}", details, beds);
    }

    private static PartnerDetails Partner(string name, Sector sector, decimal sizeWeight, bool expectedDaily, params string[] onCall) =>
        new(name, sector, sizeWeight, expectedDaily, onCall.Select((person, i) => new Contact(
            person, DemoUserId(person), i == 0 ? "On-call director" : "Deputy on-call director", i + 1)).ToList());

    /// <summary>A stable, obviously synthetic Entra object id per demo person.</summary>
    private static string DemoUserId(string person) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(person))[..16]).ToString();
}
