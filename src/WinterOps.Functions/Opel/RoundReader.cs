using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Functions.Partners;

namespace WinterOps.Functions.Opel;

/// <summary>What a round reads: its inputs, and from the same scan of the registry the partners expected daily and the ICS executive ladder.</summary>
public sealed record RoundRead(RoundInputs Inputs, IReadOnlyList<string> Expected, IReadOnlyList<OnCallContact> SystemLadder)
{
    /// <summary>The partners expected daily that have no return yet.</summary>
    public IReadOnlyList<string> Missing() => Inputs.Partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList();
}

/// <summary>
/// Reads what a round is made of, from the partner registry and the day's returns (one query each):
/// every partner expected daily or that reported, with today's effective level or, when missing, its level carried
/// forward from the previous day's assessment.
/// </summary>
public sealed class RoundReader(PartnerStore partnerStore, ReturnStore returnStore, RoundStore rounds, EscalationOptions escalations)
{
    public async Task<RoundRead> ReadAsync(DateOnly date, CancellationToken cancellationToken)
    {
        // The three reads are independent: made at once, the round reads in the time of the longest.
        var returns = returnStore.ReadLevelsAsync(date, cancellationToken);
        var yesterday = rounds.ReadPartnersAsync(date.AddDays(-1), cancellationToken);
        var registry = partnerStore.LoadAllAsync(cancellationToken).ToListAsync(cancellationToken).AsTask();
        await Task.WhenAll(returns, yesterday, registry);
        var levels = await returns;
        var carried = (await yesterday).ToDictionary(p => p.OdsCode, p => p.EffectiveLevel, StringComparer.Ordinal);
        var escalating = escalations.InForce.Contains(EscalationRule.PartnerAtOpel4);
        var partners = new List<PartnerInput>();
        var ladders = new Dictionary<string, IReadOnlyList<OnCallContact>>(StringComparer.Ordinal);
        var expected = new List<string>();
        IReadOnlyList<OnCallContact> systemLadder = [];
        foreach (var p in await registry)
        {
            if (p.OdsCode == escalations.SystemOrg)
            {
                systemLadder = Ladder(p);
            }

            if (p.Details.ExpectedDaily)
            {
                expected.Add(p.OdsCode);
            }

            var reported = levels.TryGetValue(p.OdsCode, out var today);
            if (!reported && !p.Details.ExpectedDaily)
            {
                continue;
            }

            var level = reported ? today : carried.GetValueOrDefault(p.OdsCode);
            partners.Add(new PartnerInput(p.OdsCode, p.Details.Sector, p.Details.SizeWeight, level, Missing: !reported));
            if (escalating && level == 4 && Ladder(p) is { Count: > 0 } ladder)
            {
                ladders[p.OdsCode] = ladder;
            }
        }

        // Without a configured ladder the alerts still reach every Executive through the inbox.
        return new RoundRead(new RoundInputs(partners, ladders), expected, systemLadder.Count > 0 ? systemLadder : [escalations.Fallback]);
    }

    /// <summary>A partner's contacts in on-call order: who is alerted, one after another, when it escalates.</summary>
    public static IReadOnlyList<OnCallContact> Ladder(StoredPartner partner) =>
        partner.Details.Contacts.OrderBy(c => c.OnCallOrder).Select(c => new OnCallContact(c.Name, c.EntraUserId, partner.OdsCode)).ToList();
}
