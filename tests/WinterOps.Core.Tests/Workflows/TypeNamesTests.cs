using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

/// <summary>Stored type names: the contract by which audit rows and escalation steps stay readable across versions.</summary>
public sealed class TypeNamesTests
{
    private static readonly PartnerDetails Details = new(
        "Royal County Hospital", Sector.Acute, 1.5m, ExpectedDaily: true,
        [new Contact("Ada Lovelace", "oid-1", "Site manager", 1), new Contact("Alan Turing", null, "Deputy", 2)]);

    private static readonly TypeNames<PartnerEvent> Names = new(
        ("PartnerRegistered", typeof(PartnerEvent.Registered)),
        ("PartnerDetailsChanged", typeof(PartnerEvent.DetailsChanged)));

    private static readonly PartnerEvent[] Events =
    [
        new PartnerEvent.Registered("RC9", Details),
        new PartnerEvent.DetailsChanged(Details with { SizeWeight = 2m, Contacts = [] }),
    ];

    [Fact]
    public void EveryRegisteredType_RoundTripsByItsStoredName()
    {
        Events.Select(Names.NameOf).ShouldBe(Names.Names, ignoreOrder: true);
        foreach (var @event in Events)
        {
            Names.Deserialize(Names.NameOf(@event), Names.Serialize(@event)).ShouldBe(@event);
        }
    }

    [Fact]
    public void Serialize_WritesStoredDataWithoutClrTypeNames()
    {
        var json = Names.Serialize(Events[0]);

        json.ShouldNotContain(nameof(PartnerEvent));
        json.ShouldContain("\"odsCode\":\"RC9\"");
        json.ShouldContain("\"sector\":\"acute\"");
    }

    [Fact]
    public void Deserialize_OfUnknownTypeName_ThrowsUnknownTypeNamingIt()
    {
        var error = Should.Throw<UnknownTypeException>(() => Names.Deserialize("PartnerDissolved", "{}"));

        error.Message.ShouldContain("'PartnerDissolved'");
    }

    [Fact]
    public void Deserialize_IsCaseSensitiveAboutStoredNames()
    {
        Should.Throw<UnknownTypeException>(() => Names.Deserialize("partnerregistered", "{}"));
    }

    [Fact]
    public void NameOf_UnregisteredType_ThrowsUnknownType()
    {
        var names = new TypeNames<PartnerEvent>(("PartnerRegistered", typeof(PartnerEvent.Registered)));

        var error = Should.Throw<UnknownTypeException>(() => names.NameOf(Events[1]));

        error.Message.ShouldContain(nameof(PartnerEvent.DetailsChanged));
    }

    [Fact]
    public void Register_SameNameTwice_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<PartnerEvent>(
            ("PartnerRegistered", typeof(PartnerEvent.Registered)), ("PartnerRegistered", typeof(PartnerEvent.DetailsChanged))));
    }

    [Fact]
    public void Register_SameTypeTwice_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<PartnerEvent>(
            ("PartnerRegistered", typeof(PartnerEvent.Registered)), ("PartnerRegisteredV2", typeof(PartnerEvent.Registered))));
    }

    [Fact]
    public void Register_TypeOutsideTheClosedSet_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<PartnerEvent>(("PartnerCreated", typeof(PartnerState.None))));
    }
}
