using WinterOps.Core.Workflows;

namespace WinterOps.Core.Partners;

/// <summary>The sectors of the OPEL framework a partner organisation reports in.</summary>
public enum Sector
{
    Acute,
    Community,
    MentalHealth,
    Ambulance,
    Nhs111,
    SocialCare,
    PrimaryCare,
}

/// <summary>A person WinterOps alerts for a partner, in on-call order (1 is called first).</summary>
public sealed record Contact(string Name, string? EntraUserId, string Role, int OnCallOrder);

/// <summary>
/// What the coordination centre records about a partner: its sector, its size weight in system
/// aggregation, whether it must submit the daily return, and who to alert.
/// </summary>
public sealed record PartnerDetails(string Name, Sector Sector, decimal SizeWeight, bool ExpectedDaily, IReadOnlyList<Contact> Contacts)
{
    /// <summary>Value equality over the contact list too, so a repeated PUT is recognised as no change.</summary>
    public bool Equals(PartnerDetails? other) =>
        other is not null && Name == other.Name && Sector == other.Sector && SizeWeight == other.SizeWeight
        && ExpectedDaily == other.ExpectedDaily && Contacts.SequenceEqual(other.Contacts);

    public override int GetHashCode() => HashCode.Combine(Name, Sector, SizeWeight, ExpectedDaily, Contacts.Count);
}

public abstract record PartnerCommand
{
    private PartnerCommand()
    {
    }

    /// <summary>Record a partner's details: registers it the first time, updates it after.</summary>
    public sealed record SetDetails(string OdsCode, PartnerDetails Details) : PartnerCommand;
}

public abstract record PartnerEvent
{
    private PartnerEvent()
    {
    }

    /// <summary>The coordination centre registered a partner organisation with the ICS.</summary>
    public sealed record Registered(string OdsCode, PartnerDetails Details) : PartnerEvent;

    /// <summary>The coordination centre changed a partner's details; the event holds them all, as now in force.</summary>
    public sealed record DetailsChanged(PartnerDetails Details) : PartnerEvent;
}

public abstract record PartnerState
{
    private PartnerState()
    {
    }

    /// <summary>No partner has this code.</summary>
    public sealed record None : PartnerState;

    /// <summary>A registered partner and its current details.</summary>
    public sealed record Registered(string OdsCode, PartnerDetails Details) : PartnerState;
}

/// <summary>The partner registry's rules: what a change of details records, and who hears of a new partner.</summary>
public static class PartnerRules
{
    public static IEnumerable<PartnerEvent> Decide(PartnerCommand command, PartnerState state) =>
        (command, state) switch
        {
            (PartnerCommand.SetDetails c, PartnerState.None) => [new PartnerEvent.Registered(c.OdsCode, c.Details)],
            (PartnerCommand.SetDetails c, PartnerState.Registered s) when s.Details.Equals(c.Details) => [],
            (PartnerCommand.SetDetails c, PartnerState.Registered) => [new PartnerEvent.DetailsChanged(c.Details)],
            _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to a partner in state {state.GetType().Name}."),
        };

    public static PartnerState Evolve(PartnerState state, PartnerEvent @event) =>
        (state, @event) switch
        {
            (_, PartnerEvent.Registered e) => new PartnerState.Registered(e.OdsCode, e.Details),
            (PartnerState.Registered s, PartnerEvent.DetailsChanged e) => s with { Details = e.Details },
            _ => state,
        };

    /// <summary>The notification id of a partner's registration: one per partner, so a re-sent announcement is the same message.</summary>
    public static string AnnouncementId(string odsCode) => $"partner-{odsCode}.registered";

    /// <summary>The coordination centre hears of every new partner (it must check contacts before winter): ids and codes only, no contact.</summary>
    public static Notification Announcement(string odsCode, PartnerDetails details) => new Notification(
        "PartnerRegistered",
        Recipient.Role("Coordinator"),
        $"Partner {odsCode} registered",
        $"partner-{odsCode}",
        new Dictionary<string, string> { ["odsCode"] = odsCode, ["sector"] = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(details.Sector.ToString()) },
        $"/api/partners/{odsCode}");
}
