using Microsoft.Azure.Functions.Worker;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using WinterOps.Azure.Outbox;
using WinterOps.Core;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Http;
using WinterOps.Functions.Opel;

namespace WinterOps.Functions.Placements;

public sealed record PlacementRequestBody(
    string? PatientRef, string? NhsNumber, string? ReferringOrg, string? Pathway, string? BedType, string? FundingRoute,
    IReadOnlyList<string>? PreferredLocalities, string? RequiredBy, string? NeedsSummary, IReadOnlyList<string>? ClinicalFlags);

public sealed record AcceptBody(string? AdmissionDate, string? ContactName);

public sealed record DeclineBody(string? Reason, string? Comment);

public sealed record CancelBody(string? Reason);

public sealed record AdmittedBody(string? AdmittedOn);

public sealed record OfferView(string CqcLocationId, string Locality, int Round, OfferStatus Status, DateTimeOffset ExpiresAt);

/// <summary>
/// A placement as the caller may see it. Brokers see only their own home's offers, and never the
/// patient reference or NHS number.
/// </summary>
public sealed record PlacementView(
    string PlacementId, PlacementPhase Status, string ReferringOrg, Pathway Pathway, BedType BedType, FundingRoute FundingRoute,
    DateOnly RequiredBy, IReadOnlyList<string> PreferredLocalities, IReadOnlyList<ClinicalNeed> ClinicalFlags, string? NeedsSummary,
    string? PatientRef, string? NhsNumber, int Round, IReadOnlyList<OfferView> Offers, Booking? Booking, bool Escalated,
    DateTimeOffset? RequestedAt, long Version);

public sealed record HistoryItem(long Version, string Type, DateTimeOffset At, string By, string? ByRole, string? ByOrg, JsonElement Data);

public static partial class PlacementEndpoints
{
    public const int MaxNeedsSummary = 2000;

    /// <summary>Request a care-home placement: matching homes get time-limited offers at once (DischargeTeam).</summary>
    [Function("RequestPlacement")]
    public static Task RequestPlacement([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.DischargeTeam), RequestAsync);

    /// <summary>A placement, its offers and booking (the referring team, an offered home's Broker, Coordinators).</summary>
    [Function("GetPlacement")]
    public static Task GetPlacement([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/placements/{placementId}")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, GetAsync);

    /// <summary>Every event of the placement: who, when, what, why.</summary>
    [Function("GetPlacementHistory")]
    public static Task GetPlacementHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/placements/{placementId}/history")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, HistoryAsync);

    /// <summary>Placements by status and referring organisation (DischargeTeam: its own; Coordinator: all).</summary>
    [Function("ListPlacements")]
    public static Task ListPlacements([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/placements")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.DischargeTeam, Roles.Coordinator), ListAsync);

    /// <summary>Accept the home's offer: reserves a bed; the first valid acceptance books the placement (Broker of the home).</summary>
    [Function("AcceptOffer")]
    public static Task AcceptOffer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/offers/{cqcLocationId}/accept")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Broker), AcceptAsync);

    /// <summary>Decline the home's offer with a reason (Broker of the home).</summary>
    [Function("DeclineOffer")]
    public static Task DeclineOffer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/offers/{cqcLocationId}/decline")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Broker), DeclineAsync);

    /// <summary>Cancel before admission; a reserved bed is released (the referring DischargeTeam, or a Coordinator).</summary>
    [Function("CancelPlacement")]
    public static Task CancelPlacement([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/cancel")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.DischargeTeam, Roles.Coordinator), CancelAsync);

    /// <summary>Record the admission: the reserved bed becomes occupied (Broker of the booked home).</summary>
    [Function("RecordAdmission")]
    public static Task RecordAdmission([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/admitted")] HttpRequest request) =>
        Api.RunAsync(request, Access.For(Roles.Broker), AdmittedAsync);


    private static async Task<IResult> RequestAsync(
        PlacementRequestBody body, HttpContext http, CommandHandler handler, OfferBoard board, PlacementOptions options,
        EscalationOptions escalations, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var request = Validate(body, London.Today(now));
        var caller = http.Caller();
        if (!caller.ActsFor(request.ReferringOrg))
        {
            return Forbidden($"You do not act for {request.ReferringOrg}; request placements for your own organisation.");
        }

        var openOffers = await board.CountOpenAsync(cancellationToken);
        var homes = new List<HomeSnapshot>();
        await foreach (var (state, _) in handler.LoadAllAsync(CareHomeWorkflow.Definition, cancellationToken))
        {
            if (state is CareHomeState.Registered home)
            {
                homes.Add(new HomeSnapshot(home, openOffers.GetValueOrDefault(home.CqcLocationId)));
            }
        }

        // With an Idempotency-Key the id is derived from it: a retry of a request that committed but
        // never answered finds the same placement instead of creating a second one.
        var placementId = "PL" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(http.RequestId())))[..12];
        // Only the homes that can ever get an offer are kept with the request (events are size-limited).
        var candidates = Matching.Rank(request, homes, now, options.VacancyFreshness).Take(options.OffersPerRound * options.MaxRounds).ToList();
        var result = await handler.HandleAsync(
            PlacementWorkflow.Definition, placementId, new PlacementCommand.Request(
                placementId, request, candidates, options.Policy with { EscalationAcknowledgeWithin = escalations.UnplacedPlacementWindow }, now),
            http.CommandContext(now), expectedVersion: 0, cancellationToken);
        http.Response.Headers.ETag = result.ETag;
        return TypedResults.Created($"/api/placements/{placementId}", View(result.State, result.Version, caller));
    }

    private static async Task<IResult> GetAsync(string placementId, HttpContext http, CommandHandler handler, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var (state, version, refused) = await LoadVisibleAsync(handler, placementId, caller, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Ok(View(state, version, caller));
    }

    private static async Task<IResult> HistoryAsync(string placementId, HttpContext http, CommandHandler handler, IEventStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var (state, _, refused) = await LoadVisibleAsync(handler, placementId, caller, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var full = SeesEverything(caller, state);
        var homes = caller.Orgs;
        var items = new List<HistoryItem>();
        foreach (var stored in await store.ReadEventsAsync(PlacementWorkflow.Definition.StreamId(placementId), cancellationToken))
        {
            var @event = PlacementWorkflow.Definition.Events.Deserialize(stored.Type, stored.Data);
            var visible = full ? @event : ForBroker(@event, homes, state);
            if (visible is not null)
            {
                // Brokers see who acted only for their own home's actions, never a competitor's broker.
                var shown = full || stored.ById == caller.Id || stored.ById.StartsWith("system:", StringComparison.Ordinal)
                    || (stored.ByOrg is { } org && caller.ActsFor(org));
                items.Add(new HistoryItem(
                    stored.Version, stored.Type, stored.At, shown ? stored.ByName : "another organisation",
                    shown ? stored.ByRole : null, shown ? stored.ByOrg : null,
                    JsonSerializer.SerializeToElement(visible, visible.GetType(), ApiJson(http))));
            }
        }

        return TypedResults.Ok(items);
    }

    private static async Task<IResult> ListAsync(
        string? status, string? referringOrg, HttpContext http, CommandHandler handler, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        PlacementPhase phase = default;
        new Validation()
            .Require(status is null || Names<PlacementPhase>.TryParse(status, out phase) && phase != PlacementPhase.None, "status",
                $"Use one of: {string.Join(", ", Names<PlacementPhase>.All.Skip(1))}.")
            .ThrowIfAny();
        if (!caller.IsIn(Roles.Coordinator))
        {
            referringOrg ??= caller.Orgs.Count > 0 ? caller.Orgs[0] : null;
            if (referringOrg is null || !caller.ActsFor(referringOrg))
            {
                return Forbidden("Discharge teams list their own organisation's placements.");
            }
        }

        var views = new List<PlacementView>();
        await foreach (var (state, head) in handler.LoadAllAsync(PlacementWorkflow.Definition, cancellationToken))
        {
            if ((status is null || state.Phase == phase)
                && (referringOrg is null || string.Equals(state.Details?.ReferringOrg, referringOrg, StringComparison.OrdinalIgnoreCase)))
            {
                views.Add(View(state, head.Version, caller));
            }
        }

        return TypedResults.Ok(views.OrderByDescending(v => v.RequestedAt).ToList());
    }

    /// <summary>The home's broker accepts: validated and authorised here, booked by the <see cref="BookingSaga"/>.</summary>
    private static async Task<IResult> AcceptAsync(
        string placementId, string cqcLocationId, AcceptBody body, HttpContext http, CommandHandler handler, BookingSaga saga,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var now = time.GetUtcNow();
        var today = London.Today(now);
        var v = new Validation();
        var admission = ParseDate(v, "admissionDate", body.AdmissionDate);
        v.Require(admission is null || (admission >= today && admission <= today.AddDays(90)), "admissionDate", "The admission date is from today to 90 days ahead.")
            .Require(!string.IsNullOrWhiteSpace(body.ContactName) && body.ContactName.Length <= 100, "contactName", "Name the home's contact for the admission (1 to 100 characters).")
            .ThrowIfAny();
        if (!caller.ActsFor(cqcLocationId))
        {
            return CareHomeEndpoints.NotYourHome(cqcLocationId);
        }

        var (state, version) = await LoadAsync(handler, placementId, cancellationToken);
        if (state is null || state.Offers.All(o => o.CqcLocationId != cqcLocationId))
        {
            return UnknownPlacement(placementId);
        }

        var accept = new PlacementCommand.Accept(cqcLocationId, admission!.Value, body.ContactName!.Trim(), now);
        var booked = await saga.AcceptAsync(state, version, ETags.ExpectedVersion(http.Request), accept, step => http.CommandContext(now, step), cancellationToken);
        http.Response.Headers.ETag = booked.ETag;
        return TypedResults.Ok(View(booked.State, booked.Version, caller));
    }

    private static async Task<IResult> DeclineAsync(
        string placementId, string cqcLocationId, DeclineBody body, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        DeclineReason reason = default;
        new Validation()
            .Require(Names<DeclineReason>.TryParse(body.Reason, out reason), "reason", Names<DeclineReason>.Expected)
            .Require(body.Comment is null || body.Comment.Length <= 1000, "comment", "At most 1000 characters.")
            .Require(reason != DeclineReason.Other || !string.IsNullOrWhiteSpace(body.Comment), "comment", "Say why when the reason is 'other'.")
            .ThrowIfAny();
        if (!caller.ActsFor(cqcLocationId))
        {
            return CareHomeEndpoints.NotYourHome(cqcLocationId);
        }

        var (state, _) = await LoadAsync(handler, placementId, cancellationToken);
        if (state is null || state.Offers.All(o => o.CqcLocationId != cqcLocationId))
        {
            return UnknownPlacement(placementId);
        }

        var now = time.GetUtcNow();
        var result = await handler.HandleAsync(
            PlacementWorkflow.Definition, placementId, new PlacementCommand.Decline(cqcLocationId, reason, body.Comment?.Trim(), now),
            http.CommandContext(now), ETags.ExpectedVersion(http.Request), cancellationToken);
        http.Response.Headers.ETag = result.ETag;
        return TypedResults.Ok(View(result.State, result.Version, caller));
    }

    private static async Task<IResult> CancelAsync(
        string placementId, CancelBody body, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        new Validation().Require(!string.IsNullOrWhiteSpace(body.Reason) && body.Reason.Length <= 500, "reason", "Say why (1 to 500 characters).").ThrowIfAny();
        var (state, _) = await LoadAsync(handler, placementId, cancellationToken);
        if (state is null)
        {
            return UnknownPlacement(placementId);
        }

        if (!caller.IsIn(Roles.Coordinator) && !caller.ActsFor(state.Details!.ReferringOrg))
        {
            return Forbidden("Only the referring team or a coordinator can cancel this placement.");
        }

        var now = time.GetUtcNow();
        var result = await handler.HandleAsync(
            PlacementWorkflow.Definition, placementId, new PlacementCommand.Cancel(body.Reason!.Trim(), now), http.CommandContext(now),
            ETags.ExpectedVersion(http.Request), cancellationToken);
        http.Response.Headers.ETag = result.ETag;
        return TypedResults.Ok(View(result.State, result.Version, caller));
    }

    private static async Task<IResult> AdmittedAsync(
        string placementId, AdmittedBody body, HttpContext http, CommandHandler handler, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var now = time.GetUtcNow();
        var v = new Validation();
        var admittedOn = ParseDate(v, "admittedOn", body.AdmittedOn);
        v.Require(admittedOn is null || admittedOn <= London.Today(now), "admittedOn", "An admission cannot be recorded for a future date.").ThrowIfAny();
        var (state, _) = await LoadAsync(handler, placementId, cancellationToken);
        if (state is null)
        {
            return UnknownPlacement(placementId);
        }

        if (state.Booking is not { } booking || !caller.ActsFor(booking.CqcLocationId))
        {
            return Forbidden("Only the broker of the booked home can record the admission.");
        }

        new Validation().Require(admittedOn >= London.Today(state.RequestedAt!.Value), "admittedOn", "The admission cannot be before the placement was requested.").ThrowIfAny();

        var result = await handler.HandleAsync(
            PlacementWorkflow.Definition, placementId, new PlacementCommand.RecordAdmission(admittedOn!.Value, now), http.CommandContext(now),
            ETags.ExpectedVersion(http.Request), cancellationToken);
        http.Response.Headers.ETag = result.ETag;
        return TypedResults.Ok(View(result.State, result.Version, caller));
    }

    private static PlacementRequest Validate(PlacementRequestBody body, DateOnly today)
    {
        var v = new Validation()
            .Require(body.PatientRef is { Length: >= 1 and <= 64 } && PatientRef().IsMatch(body.PatientRef), "patientRef",
                "Give the local pseudonymous reference: 1 to 64 letters, digits, '-' or '_' (no names).")
            .Require(body.NhsNumber is null || NhsNumber.IsValid(body.NhsNumber), "nhsNumber", "An NHS number is 10 digits with a valid Modulus 11 check digit.")
            .Require(body.ReferringOrg is not null && OdsCode().IsMatch(body.ReferringOrg), "referringOrg", "Give the referring organisation's ODS code, e.g. RC9.")
            .Require(body.NeedsSummary is null || body.NeedsSummary.Length <= MaxNeedsSummary, "needsSummary", $"At most {MaxNeedsSummary} characters.");
        Pathway pathway = default;
        BedType bedType = default;
        FundingRoute funding = default;
        v.Require(body.Pathway is "P2" or "P3" && Enum.TryParse(body.Pathway, out pathway), "pathway", "Use P2 or P3.");
        v.Require(Names<BedType>.TryParse(body.BedType, out bedType), "bedType", Names<BedType>.Expected);
        v.Require(Names<FundingRoute>.TryParse(body.FundingRoute, out funding), "fundingRoute", Names<FundingRoute>.Expected);
        var localities = body.PreferredLocalities ?? [];
        v.Require(localities.Count <= 10 && localities.All(l => !string.IsNullOrWhiteSpace(l) && l.Length <= 60), "preferredLocalities", "Up to 10 localities, each 1 to 60 characters, in order of preference.");
        var flags = CareHomeEndpoints.ParseList<ClinicalNeed>(v, "clinicalFlags", body.ClinicalFlags, required: false);
        var requiredBy = ParseDate(v, "requiredBy", body.RequiredBy);
        v.Require(requiredBy is null || requiredBy >= today, "requiredBy", "The required-by date cannot be in the past.")
            .Require(requiredBy is null || requiredBy <= today.AddDays(365), "requiredBy", "The required-by date is at most a year ahead.")
            .ThrowIfAny();
        return new PlacementRequest(
            body.PatientRef!, body.NhsNumber, body.ReferringOrg!, pathway, bedType, funding, localities.Select(l => l.Trim()).ToList(),
            requiredBy!.Value, body.NeedsSummary, flags);
    }

    private static DateOnly? ParseDate(Validation v, string field, string? value)
    {
        if (value is not null && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        v.Add(field, "Give a date as yyyy-MM-dd.");
        return null;
    }

    /// <summary>The placement if the caller may see it; otherwise the 404 or 403 to answer.</summary>
    private static async Task<(PlacementState State, long Version, IResult? Refused)> LoadVisibleAsync(
        CommandHandler handler, string placementId, Caller caller, CancellationToken cancellationToken)
    {
        var (state, version) = await LoadAsync(handler, placementId, cancellationToken);
        return state is null ? (null!, 0, UnknownPlacement(placementId))
            : !CanSee(caller, state) ? (null!, 0, Forbidden("This placement is not yours to see."))
            : (state, version, null);
    }

    public static async Task<(PlacementState? State, long Version)> LoadAsync(CommandHandler handler, string placementId, CancellationToken cancellationToken)
    {
        if (!PlacementId().IsMatch(placementId))
        {
            return (null, 0);
        }

        var (state, head) = await handler.LoadAsync(PlacementWorkflow.Definition, PlacementWorkflow.Definition.StreamId(placementId), cancellationToken);
        return state.Phase == PlacementPhase.None ? (null, 0) : (state, head!.Version);
    }

    private static bool SeesEverything(Caller caller, PlacementState state) =>
        caller.IsIn(Roles.Coordinator) || (caller.IsIn(Roles.DischargeTeam) && caller.ActsFor(state.Details!.ReferringOrg));

    private static bool CanSee(Caller caller, PlacementState state) =>
        SeesEverything(caller, state) || (caller.IsIn(Roles.Broker) && state.Offers.Any(o => caller.ActsFor(o.CqcLocationId)));

    private static PlacementView View(PlacementState s, long version, Caller caller)
    {
        var full = SeesEverything(caller, s);
        var d = s.Details!;
        var offers = s.Offers.Where(o => full || caller.ActsFor(o.CqcLocationId))
            .Select(o => new OfferView(o.CqcLocationId, o.Locality, o.Round, o.Status, o.ExpiresAt)).ToList();
        var booking = full || (s.Booking is { } b && caller.ActsFor(b.CqcLocationId)) ? s.Booking : null;

        // A home needs the needs summary to decide, and once booked to prepare; not after its offer closed.
        var needs = full || booking is not null || offers.Any(o => o.Status == OfferStatus.Open) ? d.NeedsSummary : null;
        return new PlacementView(
            s.PlacementId, s.Phase, d.ReferringOrg, d.Pathway, d.BedType, d.FundingRoute, d.RequiredBy, d.PreferredLocalities, d.ClinicalFlags,
            needs, full ? d.PatientRef : null, full ? d.NhsNumber : null, s.Round, offers, booking, s.Escalated, s.RequestedAt, version);
    }

    /// <summary>What a home's broker may see of one event: only what concerns its own home(s).</summary>
    private static PlacementEvent? ForBroker(PlacementEvent @event, IReadOnlyList<string> homes, PlacementState state)
    {
        bool Mine(string cqc) => homes.Contains(cqc, StringComparer.OrdinalIgnoreCase);
        return @event switch
        {
            PlacementEvent.OffersMade e when e.Offers.Any(o => Mine(o.CqcLocationId)) => e with { Offers = e.Offers.Where(o => Mine(o.CqcLocationId)).ToList() },
            PlacementEvent.OffersWithdrawn e when e.CqcLocationIds.Any(Mine) => e with { CqcLocationIds = e.CqcLocationIds.Where(Mine).ToList() },
            PlacementEvent.Booked e when Mine(e.CqcLocationId) => e,
            PlacementEvent.OfferDeclined e when Mine(e.CqcLocationId) => e,
            PlacementEvent.OfferExpired e when Mine(e.CqcLocationId) => e,
            PlacementEvent.Cancelled or PlacementEvent.Admitted when state.Booking is { } b && Mine(b.CqcLocationId) => @event,
            _ => null,
        };
    }

    private static JsonSerializerOptions ApiJson(HttpContext http) =>
        http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    private static ProblemHttpResult UnknownPlacement(string placementId) =>
        TypedResults.Problem(statusCode: 404, title: "No such placement.", detail: $"No placement '{placementId}' is visible to you.");

    private static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(statusCode: 403, title: "Forbidden.", detail: detail);

    [GeneratedRegex(@"^PL[0-9A-F]{12}\z")]
    private static partial Regex PlacementId();

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex PatientRef();

    [GeneratedRegex(@"^[A-Z0-9]{3,10}\z")]
    private static partial Regex OdsCode();
}
