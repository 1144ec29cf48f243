using Microsoft.Azure.Functions.Worker;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Http;
using WinterOps.Functions.Partners;

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
    public static Task RequestPlacement([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.DischargeTeam), RequestAsync, client);

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
    public static Task AcceptOffer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/offers/{cqcLocationId}/accept")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Broker), AcceptAsync, client);

    /// <summary>Decline the home's offer with a reason (Broker of the home).</summary>
    [Function("DeclineOffer")]
    public static Task DeclineOffer([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/offers/{cqcLocationId}/decline")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Broker), DeclineAsync, client);

    /// <summary>Cancel before admission; a reserved bed is released (the referring DischargeTeam, or a Coordinator).</summary>
    [Function("CancelPlacement")]
    public static Task CancelPlacement([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/cancel")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.DischargeTeam, Roles.Coordinator), CancelAsync, client);

    /// <summary>How the orchestration decided a response answered 202 (its Location): 200, 409 or 412, or 202 while pending.</summary>
    [Function("GetPlacementResponse")]
    public static Task GetPlacementResponse([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/placements/{placementId}/responses/{responseId}")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, ResponseAsync);

    /// <summary>Record the admission: the reserved bed becomes occupied (Broker of the booked home).</summary>
    [Function("RecordAdmission")]
    public static Task RecordAdmission([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/placements/{placementId}/admitted")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        Api.RunAsync(request, Access.For(Roles.Broker), AdmittedAsync, client);


    private static async Task<IResult> RequestAsync(
        PlacementRequestBody body, HttpContext http, PlacementStore store, PlacementOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var request = Validate(body, London.Today(now));
        var caller = http.Caller();
        if (!caller.ActsFor(request.ReferringOrg))
        {
            return Forbidden($"You do not act for {request.ReferringOrg}; request placements for your own organisation.");
        }

        // With an Idempotency-Key the id is derived from it (and the caller and route): a retry of a request that was
        // stored but never answered finds the same placement and its orchestration instead of creating a second one.
        var placementId = "PL" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(http.RequestId())))[..12];
        await store.CreateAsync(placementId, new PendingRequest(request, caller.ToActor(), now), cancellationToken);
        var durable = http.DurableClient();
        if (await durable.GetInstanceAsync(placementId, cancellationToken) is null)
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(
                PlacementOrchestration.Name, new PlacementInput(placementId), new StartOrchestrationOptions(placementId), cancellationToken);
        }

        // People get answers: wait (bounded) until the homes are ranked and the first offers are out.
        var placement = await Api.WaitAsync(
            () => store.LoadAsync(placementId, cancellationToken), p => p is { State.Phase: not PlacementPhase.None }, options.DecisionWait, cancellationToken);
        var location = $"/api/placements/{placementId}";
        if (placement is not { State.Phase: not PlacementPhase.None } matched)
        {
            return TypedResults.Accepted(location);
        }

        http.Response.Headers.ETag = ETags.For(matched.Version);
        return TypedResults.Created(location, View(matched.State, matched.Version, caller));
    }

    private static async Task<IResult> GetAsync(string placementId, HttpContext http, PlacementStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var (placement, refused) = await LoadVisibleAsync(store, placementId, caller, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        http.Response.Headers.ETag = ETags.For(placement.Version);
        return TypedResults.Ok(View(placement.State, placement.Version, caller));
    }

    private static async Task<IResult> HistoryAsync(string placementId, HttpContext http, PlacementStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var (placement, refused) = await LoadVisibleAsync(store, placementId, caller, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var state = placement.State;
        var full = SeesEverything(caller, state);
        var homes = caller.Orgs;
        var items = new List<HistoryItem>();
        foreach (var stored in await store.ReadHistoryAsync(placementId, cancellationToken))
        {
            var @event = PlacementWorkflow.Events.Deserialize(stored.Type, stored.Data);
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
        string? status, string? referringOrg, HttpContext http, PlacementStore store, CancellationToken cancellationToken)
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
        await foreach (var placement in store.LoadAllAsync(status is null ? null : phase, referringOrg, cancellationToken))
        {
            views.Add(View(placement.State, placement.Version, caller));
        }

        return TypedResults.Ok(views.OrderByDescending(v => v.RequestedAt).ToList());
    }

    private static async Task<IResult> AcceptAsync(
        string placementId, string cqcLocationId, AcceptBody body, HttpContext http, PlacementStore store, PlacementOptions options,
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

        if (await LoadAsync(store, placementId, cancellationToken) is not { } placement || placement.State.Offers.All(o => o.CqcLocationId != cqcLocationId))
        {
            return UnknownPlacement(placementId);
        }

        return await RespondAsync(
            http, store, options, placement, ResponseKind.Accept, cqcLocationId,
            new PlacementCommand.Accept(cqcLocationId, admission!.Value, body.ContactName!.Trim(), now), cancellationToken);
    }

    private static async Task<IResult> DeclineAsync(
        string placementId, string cqcLocationId, DeclineBody body, HttpContext http, PlacementStore store, PlacementOptions options,
        TimeProvider time, CancellationToken cancellationToken)
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

        if (await LoadAsync(store, placementId, cancellationToken) is not { } placement || placement.State.Offers.All(o => o.CqcLocationId != cqcLocationId))
        {
            return UnknownPlacement(placementId);
        }

        return await RespondAsync(
            http, store, options, placement, ResponseKind.Decline, cqcLocationId,
            new PlacementCommand.Decline(cqcLocationId, reason, body.Comment?.Trim(), time.GetUtcNow()), cancellationToken);
    }

    private static async Task<IResult> CancelAsync(
        string placementId, CancelBody body, HttpContext http, PlacementStore store, PlacementOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        new Validation().Require(!string.IsNullOrWhiteSpace(body.Reason) && body.Reason.Length <= 500, "reason", "Say why (1 to 500 characters).").ThrowIfAny();
        if (await LoadAsync(store, placementId, cancellationToken) is not { } placement)
        {
            return UnknownPlacement(placementId);
        }

        if (!caller.IsIn(Roles.Coordinator) && !caller.ActsFor(placement.State.Details!.ReferringOrg))
        {
            return Forbidden("Only the referring team or a coordinator can cancel this placement.");
        }

        return await RespondAsync(
            http, store, options, placement, ResponseKind.Cancel, null, new PlacementCommand.Cancel(body.Reason!.Trim(), time.GetUtcNow()), cancellationToken);
    }

    private static async Task<IResult> AdmittedAsync(
        string placementId, AdmittedBody body, HttpContext http, PlacementStore store, PlacementOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var now = time.GetUtcNow();
        var v = new Validation();
        var admittedOn = ParseDate(v, "admittedOn", body.AdmittedOn);
        v.Require(admittedOn is null || admittedOn <= London.Today(now), "admittedOn", "An admission cannot be recorded for a future date.").ThrowIfAny();
        if (await LoadAsync(store, placementId, cancellationToken) is not { } placement)
        {
            return UnknownPlacement(placementId);
        }

        if (placement.State.Booking is not { } booking || !caller.ActsFor(booking.CqcLocationId))
        {
            return Forbidden("Only the broker of the booked home can record the admission.");
        }

        new Validation().Require(admittedOn >= London.Today(placement.State.RequestedAt!.Value), "admittedOn", "The admission cannot be before the placement was requested.").ThrowIfAny();
        return await RespondAsync(
            http, store, options, placement, ResponseKind.Admitted, booking.CqcLocationId, new PlacementCommand.RecordAdmission(admittedOn!.Value, now), cancellationToken);
    }

    /// <summary>How the orchestration decided a response: 200, 409 or 412 as the POST would have answered, or 202 while it is pending.</summary>
    private static async Task<IResult> ResponseAsync(
        string placementId, string responseId, HttpContext http, PlacementStore store, CancellationToken cancellationToken)
    {
        var caller = http.Caller();
        var (placement, refused) = await LoadVisibleAsync(store, placementId, caller, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (await store.LoadActionAsync(placementId, responseId, cancellationToken) is not { } action || action.By.Id != caller.Id && !caller.IsIn(Roles.Coordinator))
        {
            return TypedResults.Problem(statusCode: 404, title: "No such response.", detail: $"No response '{responseId}' of yours to placement '{placementId}'.");
        }

        return await DecidedAsync(store, placement, responseId, action.Command, action.ExpectedVersion, cancellationToken)
            ?? Pending(http, placementId, responseId, placement.Version);
    }

    /// <summary>
    /// A person's answer: refused at once when the rules refuse it on the placement as stored (events sent to a
    /// finished instance are lost, so nothing is sent then); otherwise stored, raised to the orchestration by id,
    /// and answered with the orchestration's decision, waited for a bounded time.
    /// </summary>
    private static async Task<IResult> RespondAsync(
        HttpContext http, PlacementStore store, PlacementOptions options, StoredPlacement placement, ResponseKind kind, string? cqcLocationId,
        PlacementCommand command, CancellationToken cancellationToken)
    {
        var placementId = placement.State.PlacementId;
        var expected = ETags.ExpectedVersion(http.Request);
        if (Precheck(placement, command, expected) is { } now)
        {
            return now;
        }

        var responseId = http.RequestId();
        await store.SaveActionAsync(placementId, responseId, new PlacementAction(command, http.Caller().ToActor(), expected), cancellationToken);
        try
        {
            await http.DurableClient().RaiseEventAsync(
                placementId, PlacementOrchestration.ResponseEvent, new PlacementResponse(responseId, kind, cqcLocationId), cancellationToken);
            await Api.WaitAsync(() => store.LoadOutcomeAsync(placementId, responseId, cancellationToken), o => o is not null, options.DecisionWait, cancellationToken);
        }
        catch (Grpc.Core.RpcException)
        {
            // The Functions host refuses an event to an instance that finished since the precheck: decided below.
        }

        return await DecidedAsync(store, placement, responseId, command, expected, cancellationToken)
            ?? Pending(http, placementId, responseId, placement.Version);
    }

    /// <summary>
    /// The answer to a response once there is one: the orchestration's decision, or, when the placement has moved on
    /// so that the response has nothing left to do (an event sent to an instance that then finished is lost), the
    /// rules' answer on the stored placement. Null while it is still pending.
    /// </summary>
    private static async Task<IResult?> DecidedAsync(
        PlacementStore store, StoredPlacement placement, string responseId, PlacementCommand command, long? expected,
        CancellationToken cancellationToken)
    {
        var placementId = placement.State.PlacementId;
        if (await store.LoadOutcomeAsync(placementId, responseId, cancellationToken) is { } outcome)
        {
            return await AnswerAsync(store, placementId, outcome, expected, cancellationToken);
        }

        var now = await store.LoadAsync(placementId, cancellationToken) ?? placement;
        if (await store.LoadOutcomeAsync(placementId, responseId, cancellationToken) is { } decided)
        {
            return await AnswerAsync(store, placementId, decided, expected, cancellationToken); // decided while the placement was read
        }

        return Precheck(now, command, null);
    }

    /// <summary>The answer without asking the orchestration, when there is nothing for it to do; null when there is.</summary>
    private static Answer? Precheck(StoredPlacement placement, PlacementCommand command, long? expected)
    {
        if (expected is { } version && version != placement.Version)
        {
            throw new VersionMismatchException($"placement-{placement.State.PlacementId}", version, placement.Version);
        }

        if (placement.State.Phase == PlacementPhase.None)
        {
            throw new CommandRejectedException("The placement is still being matched with care homes; try again in a moment.") { State = "requested" };
        }

        try
        {
            return PlacementWorkflow.Decide(command, placement.State).Any() ? null : new Answer(placement);
        }
        catch (CommandRejectedException rejected)
        {
            throw new CommandRejectedException(rejected.Message) { State = Names<PlacementPhase>.Of(placement.State.Phase) };
        }
    }

    private static async Task<IResult> AnswerAsync(
        PlacementStore store, string placementId, StepOutcome outcome, long? expected, CancellationToken cancellationToken)
    {
        switch (outcome.Status)
        {
            case 409:
                throw new CommandRejectedException(outcome.Detail ?? "The placement refused this response.") { State = outcome.State };
            case 412:
                throw new VersionMismatchException($"placement-{placementId}", expected ?? 0, outcome.Version);
        }

        var placement = (await store.LoadAsync(placementId, cancellationToken))!;
        return new Answer(placement);
    }

    /// <summary>200 with the placement as the caller may see it, and its ETag.</summary>
    private sealed class Answer(StoredPlacement placement) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ETag = ETags.For(placement.Version);
            return TypedResults.Ok(View(placement.State, placement.Version, httpContext.Caller())).ExecuteAsync(httpContext);
        }
    }

    private static Accepted Pending(HttpContext http, string placementId, string responseId, long version)
    {
        http.Response.Headers.RetryAfter = "1";
        http.Response.Headers.ETag = ETags.For(version);
        return TypedResults.Accepted($"/api/placements/{placementId}/responses/{responseId}");
    }

    private static PlacementRequest Validate(PlacementRequestBody body, DateOnly today)
    {
        var v = new Validation()
            .Require(body.PatientRef is { Length: >= 1 and <= 64 } && PatientRef().IsMatch(body.PatientRef), "patientRef",
                "Give the local pseudonymous reference: 1 to 64 letters, digits, '-' or '_' (no names).")
            .Require(body.NhsNumber is null || NhsNumber.IsValid(body.NhsNumber), "nhsNumber", "An NHS number is 10 digits with a valid Modulus 11 check digit.")
            .Require(body.ReferringOrg is not null && PartnerEndpoints.OdsCode().IsMatch(body.ReferringOrg), "referringOrg", "Give the referring organisation's ODS code, e.g. RC9.")
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
    private static async Task<(StoredPlacement Placement, IResult? Refused)> LoadVisibleAsync(
        PlacementStore store, string placementId, Caller caller, CancellationToken cancellationToken)
    {
        var placement = await LoadAsync(store, placementId, cancellationToken);
        return placement is null ? (null!, UnknownPlacement(placementId))
            : !CanSee(caller, placement.State) ? (null!, Forbidden("This placement is not yours to see."))
            : (placement, null);
    }

    /// <summary>The placement (shown as requested while its homes are ranked); null for an id that is malformed or unknown.</summary>
    private static async Task<StoredPlacement?> LoadAsync(PlacementStore store, string placementId, CancellationToken cancellationToken) =>
        PlacementId().IsMatch(placementId) && await store.LoadAsync(placementId, cancellationToken) is { State.Details: not null } placement
            ? placement
            : null;

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
            s.PlacementId, s.Phase == PlacementPhase.None ? PlacementPhase.Requested : s.Phase, d.ReferringOrg, d.Pathway, d.BedType, d.FundingRoute, d.RequiredBy, d.PreferredLocalities, d.ClinicalFlags,
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
}
