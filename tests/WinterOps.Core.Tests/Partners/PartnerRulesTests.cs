using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Partners;

public sealed class PartnerRulesTests
{
    private const string Ods = "RC9";
    private static readonly DeciderSpec<PartnerState, PartnerCommand, PartnerEvent> Partner = DeciderSpec.For<PartnerState, PartnerCommand, PartnerEvent>(
        new PartnerState.None(), PartnerRules.Decide, PartnerRules.Evolve, DeciderSpec.AsJson);

    private static PartnerDetails Details() => new(
        "Royal County Hospital", Sector.MentalHealth, 1.5m, ExpectedDaily: true,
        [new Contact("Ada Lovelace", "oid-ada", "Site manager", 1), new Contact("Alan Turing", null, "Deputy site manager", 2)]);

    [Fact]
    public void SetDetails_ForNewPartner_Registers()
    {
        Partner.Given()
            .When(new PartnerCommand.SetDetails(Ods, Details()))
            .Then(new PartnerEvent.Registered(Ods, Details()));
    }

    [Fact]
    public void SetDetails_WithTheSameDetailsAgain_YieldsNoEvents()
    {
        // A fresh contact list with equal contacts: a repeated PUT carries a new list, never the same instance.
        Partner.Given(new PartnerEvent.Registered(Ods, Details()))
            .When(new PartnerCommand.SetDetails(Ods, Details()))
            .Then();
    }

    [Fact]
    public void SetDetails_RepeatedAfterAChange_YieldsNoEvents()
    {
        var changed = Details() with { SizeWeight = 2m };

        Partner.Given(new PartnerEvent.Registered(Ods, Details()), new PartnerEvent.DetailsChanged(changed))
            .When(new PartnerCommand.SetDetails(Ods, changed))
            .Then();
    }

    [Fact]
    public void SetDetails_WithChangedDetails_RecordsAllTheNewDetails()
    {
        var changed = Details() with { ExpectedDaily = false };

        Partner.Given(new PartnerEvent.Registered(Ods, Details()))
            .When(new PartnerCommand.SetDetails(Ods, changed))
            .Then(new PartnerEvent.DetailsChanged(changed));
    }

    [Fact]
    public void SetDetails_WithContactsInAnotherOnCallOrder_IsAChange()
    {
        var reordered = Details() with { Contacts = [.. Details().Contacts.Reverse()] };

        Partner.Given(new PartnerEvent.Registered(Ods, Details()))
            .When(new PartnerCommand.SetDetails(Ods, reordered))
            .Then(new PartnerEvent.DetailsChanged(reordered));
    }

    [Fact]
    public void SetDetails_WithAContactRemoved_IsAChange()
    {
        var fewer = Details() with { Contacts = [Details().Contacts[0]] };

        Partner.Given(new PartnerEvent.Registered(Ods, Details()))
            .When(new PartnerCommand.SetDetails(Ods, fewer))
            .Then(new PartnerEvent.DetailsChanged(fewer));
    }

    [Fact]
    public void Registered_EvolvesToARegisteredPartnerWithItsDetails()
    {
        Partner.Given()
            .When(new PartnerCommand.SetDetails(Ods, Details()))
            .Then(new PartnerEvent.Registered(Ods, Details()))
            .State.ShouldBe(new PartnerState.Registered(Ods, Details()));
    }

    [Fact]
    public void DetailsChanged_EvolvesToTheNewDetailsKeepingTheCode()
    {
        var changed = Details() with { Name = "Royal County NHS Foundation Trust", Sector = Sector.Acute };

        Partner.Given(new PartnerEvent.Registered(Ods, Details()), new PartnerEvent.DetailsChanged(changed))
            .State.ShouldBe(new PartnerState.Registered(Ods, changed));
    }

    [Fact]
    public void NoHistory_IsNoPartner()
    {
        Partner.Given().State.ShouldBe(new PartnerState.None());
    }

    [Fact]
    public void Registered_NotifiesCoordinatorsWithIdsAndCodesOnly()
    {
        var notification = PartnerRules.Announcement(Ods, Details());

        PartnerRules.AnnouncementId(Ods).ShouldBe("partner-RC9.registered");
        notification.Type.ShouldBe("PartnerRegistered");
        notification.To.ShouldBe(Recipient.Role("Coordinator"));
        notification.Subject.ShouldBe("partner-RC9");
        notification.Link.ShouldBe("/api/partners/RC9");
        notification.Data.ShouldBe(new Dictionary<string, string> { ["odsCode"] = Ods, ["sector"] = "mentalHealth" });
    }

    [Fact]
    public void Registered_NotificationNamesNoContact()
    {
        var notification = PartnerRules.Announcement(Ods, Details());

        var text = string.Join("\n", new[] { notification.Title, notification.Subject, notification.Link ?? "" }
            .Concat(notification.Data.Keys).Concat(notification.Data.Values));
        foreach (var contact in Details().Contacts)
        {
            text.ShouldNotContain(contact.Name);
            text.ShouldNotContain(contact.Name.Split(' ')[1]);
        }

        text.ShouldNotContain("oid-ada");
    }
}
