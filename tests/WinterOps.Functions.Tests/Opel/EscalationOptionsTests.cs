using Microsoft.Extensions.Configuration;
using WinterOps.Core.Opel;
using WinterOps.Functions.Opel;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>Escalation rules from settings: the listed ones replace the defaults, so a rule can be switched off.</summary>
public sealed class EscalationOptionsTests
{
    private static EscalationOptions Bind(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build()
            .GetSection("Escalations").Get<EscalationOptions>() ?? new EscalationOptions();

    [Fact]
    public void NoRulesListed_AllFiveAreInForce()
    {
        var options = Bind(("Escalations:AcknowledgeWithin", "00:20:00"));

        options.InForce.ShouldBe(EscalationOptions.DefaultRules);
        options.InForce.Count.ShouldBe(5);
        options.UnplacedPlacementWindow.ShouldBe(TimeSpan.FromMinutes(20));
    }

    [Fact]
    public void ListedRules_ReplaceTheDefaults_SoRule5CanBeSwitchedOff()
    {
        var options = Bind(("Escalations:Rules:0", "PartnerAtOpel4"), ("Escalations:Rules:1", "SystemLevel"), ("Escalations:Rules:2", "PartnerAtOpel4"));

        options.InForce.ShouldBe([EscalationRule.PartnerAtOpel4, EscalationRule.SystemLevel]);
        options.UnplacedPlacementWindow.ShouldBeNull();
    }
}
