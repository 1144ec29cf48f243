using Microsoft.Azure.Functions.Worker;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using WinterOps.Azure.Notifications;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.Http;
using WinterOps.Functions.Placements;

namespace WinterOps.Functions.CareHomes;

public sealed record CareHomeRequest(
    string? Name, string? Locality, IReadOnlyList<string>? BedTypes, IReadOnlyList<string>? ClinicalExclusions, string? CqcRating,
    IReadOnlyList<BrokerContactRequest>? BrokerContacts);

public sealed record BrokerContactRequest(string? Name, string? EntraUserId, string? Phone);

public sealed record VacanciesRequest(DateTimeOffset? AsOf, IReadOnlyDictionary<string, BedCountRequest?>? Beds);

public sealed record BedCountRequest(int? MaxCapacity, int? Occupied, int? VacantReserved, int? VacantAccepting);

/// <summary>One bed type's reported figures, plus the beds WinterOps holds and what is free to offer.</summary>
public sealed record BedsResponse(int MaxCapacity, int Occupied, int VacantReserved, int VacantAccepting, int HeldByWinterOps, int Free);

public sealed record CareHomeResponse(
    string CqcLocationId, string Name, string Locality, IReadOnlyList<BedType> BedTypes, IReadOnlyList<ClinicalNeed> ClinicalExclusions,
    CqcRating CqcRating, IReadOnlyList<BrokerContact>? BrokerContacts, DateTimeOffset? VacanciesAsOf, bool VacanciesStale,
    IReadOnlyDictionary<string, BedsResponse> Beds, long Version);

public static partial class CareHomeEndpoints
{
    /// <summary>Register a care home or update its details (Coordinator).</summary>
    [Function("PutCareHome")]
    public static Task PutCareHome([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "api/care-homes/{cqcLocationId}")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Coordinator), PutAsync);

    /// <summary>Care homes with their vacancies, optionally by bed type and locality.</summary>
    [Function("ListCareHomes")]
    public static Task ListCareHomes([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/care-homes")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, ListAsync);

    /// <summary>A care home's details and vacancies.</summary>
    [Function("GetCareHome")]
    public static Task GetCareHome([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/care-homes/{cqcLocationId}")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetAsync);

    /// <summary>Report the home's vacancies in the Capacity Tracker shape (the home's Broker, or a Coordinator).</summary>
    [Function("PutVacancies")]
    public static Task PutVacancies([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "api/care-homes/{cqcLocationId}/vacancies")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Broker, Roles.Coordinator), PutVacanciesAsync);

    /// <summary>The home's placement offers, e.g. ?status=open: the broker's inbox (the home's Broker, or a Coordinator).</summary>
    [Function("ListCareHomeOffers")]
    public static Task ListCareHomeOffers([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/care-homes/{cqcLocationId}/offers")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Broker, Roles.Coordinator), OffersAsync);


    [GeneratedRegex(@"^1-[0-9]{9,11}\z")]
    public static partial Regex CqcLocationId();

    private static async Task<IResult> PutAsync(
        string cqcLocationId, CareHomeRequest body, HttpContext http, CareHomeStore homes, TimeProvider time, CancellationToken cancellationToken)
    {
        var details = Validate(cqcLocationId, body);
        var (result, changed) = await homes.ApplyAsync(
            cqcLocationId, new CareHomeCommand.SetDetails(cqcLocationId, details), http.Caller().ToActor(), time.GetUtcNow(), ETags.ExpectedVersion(http.Request),
            cancellationToken);
        http.Response.Headers.ETag = ETags.For(result.Version);
        var response = ToResponse(result.Home, result.Version, showContacts: true, time.GetUtcNow(), PlacementSettings.Freshness(http));
        return result.Version == 1 && changed
            ? TypedResults.Created($"/api/care-homes/{cqcLocationId}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<IResult> ListAsync(
        string? bedType, string? locality, HttpContext http, CareHomeStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        BedType parsed = default;
        new Validation().Require(bedType is null || Names<BedType>.TryParse(bedType, out parsed), "bedType", Names<BedType>.Expected).ThrowIfAny();
        var caller = http.Caller();
        var homes = new List<CareHomeResponse>();
        await foreach (var (home, version) in store.LoadAllAsync(cancellationToken))
        {
            if ((bedType is null || home.Details.BedTypes.Contains(parsed))
                && (locality is null || string.Equals(home.Details.Locality, locality, StringComparison.OrdinalIgnoreCase)))
            {
                homes.Add(ToResponse(home, version, CanSeeContacts(caller, home.CqcLocationId), time.GetUtcNow(), PlacementSettings.Freshness(http)));
            }
        }

        return TypedResults.Ok(homes);
    }

    private static async Task<IResult> GetAsync(string cqcLocationId, HttpContext http, CareHomeStore homes, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await homes.LoadAsync(cqcLocationId, cancellationToken) is not var (home, version))
        {
            return UnknownHome(cqcLocationId);
        }

        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Ok(ToResponse(home, version, CanSeeContacts(http.Caller(), cqcLocationId), time.GetUtcNow(), PlacementSettings.Freshness(http)));
    }

    private static async Task<IResult> PutVacanciesAsync(
        string cqcLocationId, VacanciesRequest body, HttpContext http, CareHomeStore homes, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        if (!caller.IsIn(Roles.Coordinator) && !caller.ActsFor(cqcLocationId))
        {
            return NotYourHome(cqcLocationId);
        }

        if (await homes.LoadAsync(cqcLocationId, cancellationToken) is not { } stored)
        {
            return UnknownHome(cqcLocationId);
        }

        var now = time.GetUtcNow();
        var beds = ValidateVacancies(body, stored.Home, now);
        var (result, _) = await homes.ApplyAsync(
            cqcLocationId, new CareHomeCommand.ReportVacancies(body.AsOf!.Value, beds), caller.ToActor(), now, ETags.ExpectedVersion(http.Request), cancellationToken);
        http.Response.Headers.ETag = ETags.For(result.Version);
        return TypedResults.Ok(ToResponse(result.Home, result.Version, CanSeeContacts(caller, cqcLocationId), now, PlacementSettings.Freshness(http)));
    }

    private static async Task<IResult> OffersAsync(
        string cqcLocationId, string? status, HttpContext http, OfferBoard board, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        if (!caller.IsIn(Roles.Coordinator) && !caller.ActsFor(cqcLocationId))
        {
            return NotYourHome(cqcLocationId);
        }

        new Validation().Require(status is null || Names<OfferStatus>.TryParse(status, out _), "status", Names<OfferStatus>.Expected).ThrowIfAny();
        return TypedResults.Ok(await board.ReadAsync(cqcLocationId, status, cancellationToken));
    }

    private static CareHomeDetails Validate(string cqcLocationId, CareHomeRequest body)
    {
        var v = new Validation()
            .Require(CqcLocationId().IsMatch(cqcLocationId), "cqcLocationId", "A CQC location id is '1-' and 9 to 11 digits, e.g. 1-1000711804.")
            .Require(!string.IsNullOrWhiteSpace(body.Name) && body.Name.Length <= 200, "name", "Give the home's name (1 to 200 characters).")
            .Require(!string.IsNullOrWhiteSpace(body.Locality) && body.Locality.Length <= 60, "locality", "Give the home's locality (1 to 60 characters).");
        var bedTypes = ParseList<BedType>(v, "bedTypes", body.BedTypes, required: true);
        var exclusions = ParseList<ClinicalNeed>(v, "clinicalExclusions", body.ClinicalExclusions, required: false);
        CqcRating rating = default;
        v.Require(Names<CqcRating>.TryParse(body.CqcRating, out rating), "cqcRating", Names<CqcRating>.Expected);
        var contacts = body.BrokerContacts ?? [];
        v.Require(contacts.Count <= 10, "brokerContacts", "At most 10 broker contacts.");
        for (var i = 0; i < contacts.Count; i++)
        {
            if (contacts[i] is not { } c)
            {
                v.Add($"brokerContacts[{i}]", "A contact cannot be null.");
                continue;
            }

            v.Require(!string.IsNullOrWhiteSpace(c.Name) && c.Name.Length <= 100, $"brokerContacts[{i}].name", "Give the contact's name (1 to 100 characters).");
            v.Require(c.EntraUserId is null || Guid.TryParse(c.EntraUserId, out _), $"brokerContacts[{i}].entraUserId", "An Entra user id is a GUID.");
            v.Require(c.Phone is null || (c.Phone.Length <= 20 && c.Phone.All(ch => char.IsAsciiDigit(ch) || ch is ' ' or '+')), $"brokerContacts[{i}].phone", "A phone number has at most 20 digits, spaces or '+'.");
        }

        v.ThrowIfAny();
        return new CareHomeDetails(
            body.Name!.Trim(), body.Locality!.Trim(), bedTypes, exclusions, rating,
            contacts.OfType<BrokerContactRequest>().Select(c => new BrokerContact(c.Name!.Trim(), c.EntraUserId, c.Phone)).ToList());
    }

    private static Dictionary<BedType, BedCount> ValidateVacancies(VacanciesRequest body, CareHomeState.Registered home, DateTimeOffset now)
    {
        var v = new Validation()
            .Require(body.AsOf is not null, "asOf", "Give the time the figures were counted (ISO 8601 with offset).")
            .Require(body.AsOf is null || body.AsOf <= now.AddMinutes(5), "asOf", "The figures cannot be from the future.")
            .Require(body.AsOf is null || body.AsOf >= now.AddDays(-30), "asOf", "The figures are more than 30 days old.")
            .Require(body.Beds is { Count: > 0 }, "beds", $"Give figures for at least one bed type: {string.Join(", ", Names<BedType>.All)}.");
        var beds = new Dictionary<BedType, BedCount>();
        foreach (var (name, count) in body.Beds ?? new Dictionary<string, BedCountRequest?>())
        {
            var field = $"beds.{name}";
            if (!Names<BedType>.TryParse(name, out var bedType))
            {
                v.Add(field, Names<BedType>.Expected);
                continue;
            }

            if (!home.Details.BedTypes.Contains(bedType))
            {
                v.Add(field, "The home does not provide this bed type.");
                continue;
            }

            if (count is not { MaxCapacity: >= 0 and <= 1000, Occupied: >= 0 and <= 1000, VacantReserved: >= 0 and <= 1000, VacantAccepting: >= 0 and <= 1000 } c)
            {
                v.Add(field, "Give maxCapacity, occupied, vacantReserved and vacantAccepting, each 0 to 1000.");
                continue;
            }

            if ((long)c.Occupied!.Value + c.VacantReserved!.Value + c.VacantAccepting!.Value > c.MaxCapacity)
            {
                v.Add(field, "occupied + vacantReserved + vacantAccepting cannot exceed maxCapacity.");
                continue;
            }

            beds[bedType] = new BedCount(c.MaxCapacity!.Value, c.Occupied!.Value, c.VacantReserved!.Value, c.VacantAccepting!.Value);
        }

        v.ThrowIfAny();
        return beds;
    }

    public static List<T> ParseList<T>(Validation v, string field, IReadOnlyList<string>? values, bool required) where T : struct, Enum
    {
        var parsed = new List<T>();
        if (required && values is not { Count: > 0 })
        {
            v.Add(field, $"Give at least one of: {string.Join(", ", Names<T>.All)}.");
            return parsed;
        }

        foreach (var value in values ?? [])
        {
            if (!Names<T>.TryParse(value, out var item))
            {
                v.Add(field, $"'{Truncate(value)}' is unknown. {Names<T>.Expected}");
            }
            else if (!parsed.Contains(item))
            {
                parsed.Add(item);
            }
        }

        return parsed;
    }

    private static string Truncate(string? value) => value is null ? "null" : value.Length <= 40 ? value : value[..40] + "...";

    private static bool CanSeeContacts(Caller caller, string cqcLocationId) =>
        caller.IsIn(Roles.Coordinator) || caller.ActsFor(cqcLocationId);

    private static CareHomeResponse ToResponse(CareHomeState.Registered home, long version, bool showContacts, DateTimeOffset now, TimeSpan freshness) => new(
        home.CqcLocationId, home.Details.Name, home.Details.Locality, home.Details.BedTypes, home.Details.ClinicalExclusions, home.Details.CqcRating,
        showContacts ? home.Details.BrokerContacts : null, home.VacanciesAsOf, Matching.IsStale(home, now, freshness),
        home.Beds.ToDictionary(
            kv => Names<BedType>.Of(kv.Key),
            kv => new BedsResponse(kv.Value.MaxCapacity, kv.Value.Occupied, kv.Value.VacantReserved, kv.Value.VacantAccepting, home.Held(kv.Key), home.Free(kv.Key))),
        version);

    public static ProblemHttpResult UnknownHome(string cqcLocationId) =>
        TypedResults.Problem(statusCode: 404, title: "No such care home.", detail: $"No care home has CQC location id '{cqcLocationId}'.");

    public static ProblemHttpResult NotYourHome(string cqcLocationId) =>
        TypedResults.Problem(statusCode: 403, title: "Not your care home.", detail: $"You do not act for care home {cqcLocationId}.");
}
