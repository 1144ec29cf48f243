using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>
/// Reads what a round is made of, from the partner registry and the day's return streams (one range
/// query each): every partner expected daily or that reported, with today's effective level or, when
/// missing, its level carried forward from the previous day's assessment.
/// </summary>
public sealed class RoundReader(CommandHandler handler, EscalationOptions escalations)
{
    public async Task<RoundInputs> ReadAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var (r, _) in handler.LoadAllAsync(ReturnWorkflow.Definition, $"{RoundWorkflow.Key(date)}-", cancellationToken))
        {
            if (r.Latest is { } latest)
            {
                levels[r.OdsCode] = latest.EffectiveLevel;
            }
        }

        var round = RoundWorkflow.Definition;
        var (yesterday, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(date.AddDays(-1))), cancellationToken);
        var carried = yesterday.Assessment?.Partners.ToDictionary(p => p.OdsCode, p => p.EffectiveLevel, StringComparer.Ordinal) ?? [];
        var escalating = escalations.InForce.Contains(EscalationRule.PartnerAtOpel4);
        var partners = new List<PartnerInput>();
        var ladders = new Dictionary<string, IReadOnlyList<OnCallContact>>(StringComparer.Ordinal);
        await foreach (var (state, _) in handler.LoadAllAsync(PartnerWorkflow.Definition, cancellationToken))
        {
            if (state is not PartnerState.Registered p)
            {
                continue;
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

        return new RoundInputs(partners, ladders);
    }

    /// <summary>A partner's contacts in on-call order: who is alerted, one after another, when it escalates.</summary>
    public static IReadOnlyList<OnCallContact> Ladder(PartnerState.Registered partner) =>
        partner.Details.Contacts.OrderBy(c => c.OnCallOrder).Select(c => new OnCallContact(c.Name, c.EntraUserId, partner.OdsCode)).ToList();
}
