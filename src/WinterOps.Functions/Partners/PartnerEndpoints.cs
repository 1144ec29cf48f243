using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using WinterOps.Core.Partners;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Notifications;

namespace WinterOps.Functions.Partners;

/// <summary>The body of <c>PUT /api/partners/{odsCode}</c>.</summary>
public sealed record PartnerRequest(string? Name, string? Sector, decimal? SizeWeight, bool? ExpectedDaily, IReadOnlyList<ContactRequest>? Contacts);

public sealed record ContactRequest(string? Name, string? EntraUserId, string? Role, int? OnCallOrder);

/// <summary>A partner as the API shows it. Contacts are shown to coordinators, executives and the partner itself.</summary>
public sealed record PartnerResponse(
    string OdsCode, string Name, Sector Sector, decimal SizeWeight, bool ExpectedDaily, IReadOnlyList<Contact>? Contacts, long Version);

public static partial class PartnerEndpoints
{
    public const int MaxContacts = 20;

    [Function("PutPartner")]
    public static Task PutPartner([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "api/partners/{odsCode}")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), PutAsync, client);

    [Function("GetPartner")]
    public static Task GetPartner([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/partners/{odsCode}")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetAsync);

    [Function("ListPartners")]
    public static Task ListPartners([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/partners")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, ListAsync);

    private static async Task<IResult> PutAsync(
        string odsCode, PartnerRequest body, HttpContext http, PartnerStore partners, Notifier notifier, TimeProvider time, CancellationToken cancellationToken)
    {
        var details = Validate(odsCode, body);
        var now = time.GetUtcNow();
        var (partner, changed) = await partners.SetDetailsAsync(odsCode, details, http.Caller().ToActor(), now, ETags.ExpectedVersion(http.Request), cancellationToken);
        if (!partner.Announced)
        {
            // After the write, so nobody hears of a partner that is not there; until it is marked, every PUT (a retry) tells again, under the same id.
            await notifier.NotifyAsync(
                http.DurableClient(), PartnerRules.AnnouncementId(odsCode), $"partner-{odsCode}", PartnerRules.Announcement(odsCode, partner.Details), now, cancellationToken);
            await partners.MarkAnnouncedAsync(odsCode, cancellationToken);
        }

        http.Response.Headers.ETag = ETags.For(partner.Version);
        var response = ToResponse(partner, showContacts: true);
        return changed && partner.Version == 1
            ? TypedResults.Created($"/api/partners/{odsCode}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<IResult> GetAsync(string odsCode, HttpContext http, PartnerStore partners, CancellationToken cancellationToken)
    {
        if (await partners.LoadAsync(odsCode, cancellationToken) is not { } partner)
        {
            return UnknownPartner(odsCode);
        }

        http.Response.Headers.ETag = ETags.For(partner.Version);
        return TypedResults.Ok(ToResponse(partner, CanSeeContacts(http.Caller(), odsCode)));
    }

    private static async Task<IResult> ListAsync(HttpContext http, PartnerStore partners, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var list = new List<PartnerResponse>();
        await foreach (var partner in partners.LoadAllAsync(cancellationToken))
        {
            list.Add(ToResponse(partner, CanSeeContacts(caller, partner.OdsCode)));
        }

        return TypedResults.Ok(list);
    }

    private static PartnerDetails Validate(string odsCode, PartnerRequest body)
    {
        var v = new Validation()
            .Require(OdsCode().IsMatch(odsCode), "odsCode", "An ODS code is 3 to 10 upper-case letters and digits, e.g. RC9 or RC971.")
            .Require(!string.IsNullOrWhiteSpace(body.Name) && body.Name.Length <= 200, "name", "Give the organisation's name (1 to 200 characters).");
        Sector sector = default;
        v.Require(
            Names<Sector>.TryParse(body.Sector, out sector),
            "sector",
            Names<Sector>.Expected);
        v.Require(body.SizeWeight is > 0 and <= 100_000, "sizeWeight", "Give a size weight above 0 (e.g. general and acute beds), at most 100000.");
        v.Require(body.ExpectedDaily is not null, "expectedDaily", "Say whether the partner submits the daily return (true or false).");
        var contacts = body.Contacts ?? [];
        v.Require(contacts.Count <= MaxContacts, "contacts", $"At most {MaxContacts} contacts.");
        for (var i = 0; i < contacts.Count; i++)
        {
            if (contacts[i] is not { } c)
            {
                v.Add($"contacts[{i}]", "A contact cannot be null.");
                continue;
            }

            v.Require(!string.IsNullOrWhiteSpace(c.Name) && c.Name.Length <= 200, $"contacts[{i}].name", "Give the contact's name (1 to 200 characters).");
            v.Require(c.EntraUserId is null || Guid.TryParse(c.EntraUserId, out _), $"contacts[{i}].entraUserId", "An Entra user id is a GUID.");
            v.Require(!string.IsNullOrWhiteSpace(c.Role) && c.Role.Length <= 100, $"contacts[{i}].role", "Give the contact's role, e.g. on-call director.");
            v.Require(c.OnCallOrder is >= 1 and <= 100, $"contacts[{i}].onCallOrder", "On-call order is 1 (called first) to 100.");
        }

        v.ThrowIfAny();
        return new PartnerDetails(
            body.Name!.Trim(), sector, body.SizeWeight!.Value, body.ExpectedDaily!.Value,
            contacts.OfType<ContactRequest>().Select(c => new Contact(c.Name!.Trim(), c.EntraUserId, c.Role!.Trim(), c.OnCallOrder!.Value)).OrderBy(c => c.OnCallOrder).ToList());
    }

    private static bool CanSeeContacts(Caller caller, string odsCode) =>
        caller.IsIn(Roles.Coordinator) || caller.IsIn(Roles.Executive) || caller.ActsFor(odsCode);

    private static PartnerResponse ToResponse(StoredPartner partner, bool showContacts) => new(
        partner.OdsCode, partner.Details.Name, partner.Details.Sector, partner.Details.SizeWeight, partner.Details.ExpectedDaily,
        showContacts ? partner.Details.Contacts : null, partner.Version);

    private static ProblemHttpResult UnknownPartner(string odsCode) =>
        TypedResults.Problem(statusCode: 404, title: "No such partner.", detail: $"No partner organisation has ODS code '{odsCode}'.");

    /// <summary>An ODS code: 3 to 10 upper-case letters and digits (RC9, RC971), so it is safe as a table key.</summary>
    [GeneratedRegex(@"^[A-Z0-9]{3,10}\z")]
    public static partial Regex OdsCode();
}
