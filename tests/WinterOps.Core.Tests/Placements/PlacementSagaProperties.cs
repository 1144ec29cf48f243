using System.Globalization;
using CsCheck;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Placements;

/// <summary>
/// Random interleavings of accepts, declines, cancels, admissions, vacancy reports (new and repeated)
/// and the passing of time (which fires offer deadlines, required-by checks and the reservation
/// checks a home asks of its placement, sometimes before the outbox has caught up) across several
/// placements and homes, driven through the real deciders with the accept saga as the API performs it.
/// CsCheck prints a seed on failure; pass it as <c>seed:</c> (or set CsCheck_Seed) to replay.
/// </summary>
public sealed class PlacementSagaProperties
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly OfferPolicy Policy = new(2, TimeSpan.FromHours(4), 2);
    private static readonly BedType[] BedTypes = [BedType.Nursing, BedType.Residential];
    private static readonly string[] HomeIds = ["1-3000000001", "1-3000000002", "1-3000000003", "1-3000000004"];
    private static readonly string[] Localities = ["Brighton", "Hove", "Lewes", "Brighton"];

    /// <summary>One step of the interleaving. Indexes are taken modulo what exists.</summary>
    public abstract record SagaOp
    {
        private SagaOp()
        {
        }

        /// <summary>A broker starts accepting: dry-run the placement, reserve the bed. <paramref name="Crashes"/>: the API dies before booking.</summary>
        public sealed record BeginAccept(int Placement, int Pick, bool Crashes) : SagaOp;

        /// <summary>One in-flight acceptance reaches the placement stream (in any order relative to others).</summary>
        public sealed record FinishAccept(int Pending) : SagaOp;

        public sealed record Decline(int Placement, int Pick) : SagaOp;

        public sealed record Cancel(int Placement) : SagaOp;

        public sealed record Admit(int Placement) : SagaOp;

        public sealed record Report(int Home, BedType BedType, int Vacant) : SagaOp;

        /// <summary>The home's last report arrives again, unchanged (a retried upload, a feed re-sent).</summary>
        public sealed record RepeatReport(int Home) : SagaOp;

        /// <summary>The outbox is dispatched.</summary>
        public sealed record Deliver : SagaOp;

        /// <summary>Time passes: in-flight requests end, the outbox is dispatched, due timers fire.</summary>
        public sealed record Advance(int Minutes) : SagaOp;

        /// <summary>
        /// Time passes with the outbox lagging: in-flight requests end, due timers fire before what
        /// waits in the outbox (a booking's Confirm, say) is delivered; their replies queue behind it,
        /// then the outbox is dispatched.
        /// </summary>
        public sealed record FireTimers(int Minutes) : SagaOp;
    }

    public sealed record Scenario(int Homes, int Placements, int[] Vacant, BedType[] PlacementBeds, int[] RequiredByDays, SagaOp[] Ops)
    {
        public override string ToString() =>
            $"homes {Homes}, placements {Placements}, vacant [{string.Join(",", Vacant)}], beds [{string.Join(",", PlacementBeds)}], " +
            $"requiredBy +[{string.Join(",", RequiredByDays)}] days, ops:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", Ops.Select(o => o.ToString()))}";
    }

    private static readonly Gen<SagaOp> GenOp = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 7], Gen.Int[0, 3]).Select((p, pick, crash) => (SagaOp)new SagaOp.BeginAccept(p, pick, crash == 0))),
        (4, Gen.Int[0, 3].Select(k => (SagaOp)new SagaOp.FinishAccept(k))),
        (4, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 7]).Select((p, pick) => (SagaOp)new SagaOp.Decline(p, pick))),
        (1, Gen.Int[0, 3].Select(p => (SagaOp)new SagaOp.Cancel(p))),
        (1, Gen.Int[0, 3].Select(p => (SagaOp)new SagaOp.Admit(p))),
        (2, Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1], Gen.Int[0, 3]).Select((h, b, v) => (SagaOp)new SagaOp.Report(h, BedTypes[b], v))),
        (1, Gen.Int[0, 3].Select(h => (SagaOp)new SagaOp.RepeatReport(h))),
        (1, Gen.Const((SagaOp)new SagaOp.Deliver())),
        (2, Gen.Int[1, 300].Select(m => (SagaOp)new SagaOp.Advance(m))),
        (2, Gen.Int[1, 60].Select(m => (SagaOp)new SagaOp.FireTimers(m))));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(
        Gen.Int[3, 4],
        Gen.Int[3, 4],
        Gen.Int[0, 2].Array[HomeIds.Length * 2],
        Gen.Int[0, 1].Select(i => BedTypes[i]).Array[4],
        Gen.Int[0, 2].Array[4],
        GenOp.Array[5, 60],
        (homes, placements, vacant, beds, requiredBy, ops) => new Scenario(homes, placements, vacant, beds, requiredBy, ops));

    [Fact]
    public void AnyInterleaving_KeepsBookingsReservationsAndOffersConsistent()
    {
        GenScenario.Sample(Run, iter: 400, print: s => s.ToString());
    }

    [Fact]
    public void TheModel_ReachesEveryOutcome()
    {
        // Guards the property above against a generator that never books, admits, cancels or escalates, never
        // has a reservation checked before its booking's Confirm arrived (after a crashed accept, too), or never
        // repeats a report after an admission.
        var outcomes = new HashSet<string>();
        var gate = new Lock();
        GenScenario.Sample(
            s =>
            {
                var world = new World(s);
                world.RunAll();
                lock (gate)
                {
                    outcomes.UnionWith(world.Outcomes());
                }
            },
            iter: 400,
            threads: 1);

        outcomes.ShouldBe(
            [
                "Booked", "Admitted", "Cancelled", "Unplaced", "Escalated", "RefusedNoBed", "RefusedByPlacement", "Crashed",
                "ReleasedAfterCheck", "KeptAfterCheck", "KeptBeforeConfirm", "KeptBeforeConfirmAfterCrash", "RepeatedReportAfterAdmission",
                "AdmissionCountedByReport",
            ],
            ignoreOrder: true);
    }

    [Fact]
    public void ACrashedAcceptThenARetryThatBooks_KeepsTheBedWhenTheCheckFiresBeforeTheBookingsConfirm()
    {
        // The tester's bug: the crashed accept's reservation timer fired while the retried booking's
        // Confirm still waited in the outbox, and the booked placement lost its bed.
        var scenario = new Scenario(
            3, 3, [2, 2, 2, 2, 2, 2, 2, 2], [BedType.Nursing, BedType.Nursing, BedType.Nursing, BedType.Nursing], [2, 2, 2, 2],
            [
                new SagaOp.BeginAccept(0, 0, Crashes: true),
                new SagaOp.FinishAccept(0),
                new SagaOp.FireTimers(5),
                new SagaOp.BeginAccept(0, 0, Crashes: false),
                new SagaOp.FinishAccept(0),
                new SagaOp.FireTimers(15),
            ]);
        var world = new World(scenario);

        world.RunAll(); // the invariants are checked after every step

        world.Outcomes().ShouldContain("Crashed");
        world.Outcomes().ShouldContain("KeptBeforeConfirmAfterCrash");
        world.Outcomes().ShouldNotContain("ReleasedAfterCheck");
        world.Outcomes().ShouldContain("Booked");
    }

    [Fact]
    public void AnAdmissionThenARepeatedReport_KeepsTheAdmissionUntilANewerReportCountsIt()
    {
        var scenario = new Scenario(
            3, 3, [2, 2, 2, 2, 2, 2, 2, 2], [BedType.Nursing, BedType.Nursing, BedType.Nursing, BedType.Nursing], [2, 2, 2, 2],
            [
                new SagaOp.BeginAccept(0, 0, Crashes: false),
                new SagaOp.FinishAccept(0),
                new SagaOp.Advance(20),
                new SagaOp.Admit(0),
                new SagaOp.Deliver(),
                new SagaOp.RepeatReport(0),
                new SagaOp.RepeatReport(1),
                new SagaOp.RepeatReport(2),
                new SagaOp.Advance(60),
                new SagaOp.Report(0, BedType.Residential, 1),
                new SagaOp.Report(1, BedType.Residential, 1),
                new SagaOp.Report(2, BedType.Residential, 1),
            ]);
        var world = new World(scenario);

        world.RunAll();

        world.Outcomes().ShouldContain("Admitted");
        world.Outcomes().ShouldContain("RepeatedReportAfterAdmission");
        world.Outcomes().ShouldContain("AdmissionCountedByReport");
    }

    private static void Run(Scenario scenario) => new World(scenario).RunAll();

    private sealed record Pending(string PlacementId, string Home, PlacementCommand.Accept Accept, bool Crashes);

    private sealed record Timer(DateTimeOffset Due, long Seq, string Workflow, string Key, object Command);

    private sealed record Held(string Home, BedType BedType, int HeldAfter, int VacantThen);

    /// <summary>The placements and homes as the application would hold them, moved only through the deciders.</summary>
    private sealed class World
    {
        private readonly Scenario _scenario;
        private readonly List<string> _placementIds = [];
        private readonly Dictionary<string, PlacementState> _placements = [];
        private readonly Dictionary<string, List<PlacementEvent>> _history = [];
        private readonly Dictionary<string, CareHomeState> _homes = [];
        private readonly List<string> _homeIds;
        private readonly List<Timer> _timers = [];
        private readonly Queue<(string Workflow, string Key, object Command)> _outbox = new();
        private readonly List<Pending> _inFlight = [];
        private readonly List<Notification> _notes = [];
        private readonly List<Held> _held = [];
        private readonly HashSet<string> _outcomes = [];
        private readonly Dictionary<string, string[]> _secrets = [];
        private readonly HashSet<(string PlacementId, string Home)> _crashed = [];
        private DateTimeOffset _now = T0.AddHours(-1);
        private long _seq;
        private int _step;

        public World(Scenario scenario)
        {
            _scenario = scenario;
            _homeIds = [.. HomeIds.Take(scenario.Homes)];
            for (var h = 0; h < _homeIds.Count; h++)
            {
                var id = _homeIds[h];
                _homes[id] = new CareHomeState.None();
                RunHome(id, new CareHomeCommand.SetDetails(id, new CareHomeDetails($"Synthetic Home {h}", Localities[h], BedTypes, [], (CqcRating)(h % 3), [])));
                RunHome(id, new CareHomeCommand.ReportVacancies(_now, BedTypes.Select((b, i) => (b, scenario.Vacant[(h * 2) + i])).ToDictionary(x => x.b, x => Count(x.Item2))));
            }

            _now = T0;
            for (var p = 0; p < scenario.Placements; p++)
            {
                var id = $"PL-SAGA-{p}";
                var details = new PlacementRequest(
                    $"PSEUDOREF-SAGA-{p}-Q7", p % 2 == 0 ? "9434765919" : null, "RXH01", Pathway.P2, scenario.PlacementBeds[p], FundingRoute.LocalAuthority,
                    ["Brighton", "Hove"], London.Today(T0).AddDays(scenario.RequiredByDays[p]), $"NEEDS-SAGA-{p} synthetic needs summary", []);
                _secrets[id] = [details.PatientRef, details.NeedsSummary!, .. details.NhsNumber is { } nhs ? [nhs] : Array.Empty<string>()];
                var openOffers = _placements.Values.SelectMany(s => s.OpenOffers).GroupBy(o => o.CqcLocationId).ToDictionary(g => g.Key, g => g.Count());
                var candidates = Matching.Rank(
                    details,
                    _homeIds.Select(h => new HomeSnapshot((CareHomeState.Registered)_homes[h], openOffers.GetValueOrDefault(h))),
                    _now,
                    TimeSpan.FromHours(24));
                _placementIds.Add(id);
                _placements[id] = PlacementState.Initial;
                _history[id] = [];
                RunPlacement(id, new PlacementCommand.Request(id, details, candidates, Policy, _now));
            }

            Check();
        }

        public IEnumerable<string> Outcomes() =>
            _outcomes.Concat(_placements.Values.Select(s => s.Phase.ToString())).Concat(_placements.Values.Where(s => s.Escalated).Select(_ => "Escalated"));

        public void RunAll()
        {
            foreach (var op in _scenario.Ops)
            {
                _step++;
                Apply(op);
                Check();
            }

            // Every request in flight ends, then enough time passes for every timer to fire.
            _step++;
            Apply(new SagaOp.Advance((int)TimeSpan.FromDays(4).TotalMinutes));
            Check();
            CheckSettled();
        }

        private static BedCount Count(int vacant) => new(10, 10 - vacant, 0, vacant);

        private string Placement(int index) => _placementIds[index % _placementIds.Count];

        private string Pick(PlacementState state, int pick) =>
            state.Offers.Count > 0 && pick < 6 ? state.Offers[pick % state.Offers.Count].CqcLocationId : _homeIds[pick % _homeIds.Count];

        private void Apply(SagaOp op)
        {
            switch (op)
            {
                case SagaOp.BeginAccept b:
                    BeginAccept(Placement(b.Placement), b.Pick, b.Crashes);
                    break;
                case SagaOp.FinishAccept f when _inFlight.Count > 0:
                    var pending = _inFlight[f.Pending % _inFlight.Count];
                    _inFlight.Remove(pending);
                    FinishAccept(pending);
                    break;
                case SagaOp.Decline d:
                    {
                        var id = Placement(d.Placement);
                        var state = _placements[id];
                        var home = Pick(state, d.Pick);
                        var refused = !TryPlacement(id, new PlacementCommand.Decline(home, DeclineReason.NoBedAvailable, null, _now));
                        refused.ShouldBe(state.Phase != PlacementPhase.AwaitingResponses || state.OpenOffer(home) is null, Where($"decline {id} by {home}"));
                        break;
                    }

                case SagaOp.Cancel c:
                    {
                        var id = Placement(c.Placement);
                        var phase = _placements[id].Phase;
                        var refused = !TryPlacement(id, new PlacementCommand.Cancel("Synthetic cancellation", _now));
                        refused.ShouldBe(phase == PlacementPhase.Admitted, Where($"cancel {id} when {phase}"));
                        break;
                    }

                case SagaOp.Admit a:
                    {
                        var id = Placement(a.Placement);
                        var phase = _placements[id].Phase;
                        var refused = !TryPlacement(id, new PlacementCommand.RecordAdmission(London.Today(_now), _now));
                        refused.ShouldBe(phase is not (PlacementPhase.Booked or PlacementPhase.Admitted), Where($"admit {id} when {phase}"));
                        break;
                    }

                case SagaOp.Report r:
                    {
                        var home = _homeIds[r.Home % _homeIds.Count];
                        var beds = ((CareHomeState.Registered)_homes[home]).Beds.ToDictionary();
                        beds[r.BedType] = Count(r.Vacant);
                        RunHome(home, new CareHomeCommand.ReportVacancies(_now, beds));
                        break;
                    }

                case SagaOp.RepeatReport r:
                    {
                        var id = _homeIds[r.Home % _homeIds.Count];
                        var home = (CareHomeState.Registered)_homes[id];
                        var events = CareHomeWorkflow.Decide(new CareHomeCommand.ReportVacancies(home.VacanciesAsOf!.Value, home.Reported.ToDictionary()), home).ToList();
                        events.ShouldBeEmpty(Where($"{id}: its last report again"));
                        ApplyHome(id, events);
                        var after = (CareHomeState.Registered)_homes[id];
                        after.AdmittedSinceReport.ShouldBe(home.AdmittedSinceReport, Where($"{id}: a repeated report lost an admission"));
                        foreach (var bedType in BedTypes)
                        {
                            after.Free(bedType).ShouldBe(home.Free(bedType), Where($"{id}: a repeated report changed the free {bedType} beds"));
                        }

                        if (home.AdmittedSinceReport.Count > 0)
                        {
                            _outcomes.Add("RepeatedReportAfterAdmission");
                        }

                        break;
                    }

                case SagaOp.Deliver:
                    Dispatch();
                    break;
                case SagaOp.Advance adv:
                    EndInFlight();
                    _now = _now.AddMinutes(adv.Minutes);
                    Dispatch();
                    FireDueTimers(dispatchEach: true);
                    break;
                case SagaOp.FireTimers fire:
                    EndInFlight();
                    _now = _now.AddMinutes(fire.Minutes);
                    FireDueTimers(dispatchEach: false);
                    Dispatch();
                    break;
            }
        }

        /// <summary>Requests do not outlive a step that lets time pass.</summary>
        private void EndInFlight()
        {
            foreach (var inFlight in _inFlight.ToList())
            {
                _inFlight.Remove(inFlight);
                FinishAccept(inFlight);
            }
        }

        /// <summary>Every due timer fires in due order; the outbox is dispatched after each, or left to queue behind.</summary>
        private void FireDueTimers(bool dispatchEach)
        {
            while (_timers.Where(t => t.Due <= _now).OrderBy(t => t.Due).ThenBy(t => t.Seq).FirstOrDefault() is { } timer)
            {
                _timers.Remove(timer);
                Deliver(timer.Workflow, timer.Key, timer.Command);
                if (dispatchEach)
                {
                    Dispatch();
                }
            }
        }

        /// <summary>The API's accept, first half: the placement would take it (dry run), and the home holds the bed.</summary>
        private void BeginAccept(string id, int pick, bool crashes)
        {
            var state = _placements[id];
            var home = Pick(state, pick);
            var accept = new PlacementCommand.Accept(home, London.Today(_now).AddDays(1), "Synthetic Broker", _now);
            try
            {
                _ = PlacementWorkflow.Decide(accept, state).ToList();
            }
            catch (CommandRejectedException)
            {
                return;
            }

            try
            {
                ApplyHome(home, CareHomeWorkflow.Decide(new CareHomeCommand.Reserve(id, state.Details!.BedType, _now), _homes[home]).ToList());
            }
            catch (CommandRejectedException)
            {
                _outcomes.Add("RefusedNoBed");
                return;
            }

            _inFlight.Add(new Pending(id, home, accept, crashes));
        }

        /// <summary>The API's accept, second half: book the placement, or give the bed back if the placement refuses.</summary>
        private void FinishAccept(Pending pending)
        {
            if (pending.Crashes)
            {
                // The API died after reserving: only the placement's answer to the reservation check gives the bed back.
                _outcomes.Add("Crashed");
                _crashed.Add((pending.PlacementId, pending.Home));
                return;
            }

            var state = _placements[pending.PlacementId];
            var acceptable = state.Phase == PlacementPhase.AwaitingResponses && state.OpenOffer(pending.Home) is { } offer && pending.Accept.At <= offer.ExpiresAt;
            var booked = TryPlacement(pending.PlacementId, pending.Accept);
            booked.ShouldBe(acceptable, Where($"accept {pending.PlacementId} by {pending.Home}"));
            if (booked)
            {
                return;
            }

            // As the API does: the bed stays when the placement is (or was, if since admitted) booked with this home.
            _outcomes.Add("RefusedByPlacement");
            if (_placements[pending.PlacementId].Booking?.CqcLocationId != pending.Home)
            {
                RunHome(pending.Home, new CareHomeCommand.Release(pending.PlacementId, "The acceptance was refused."));
            }
        }

        private bool TryPlacement(string id, PlacementCommand command)
        {
            List<PlacementEvent> events;
            try
            {
                events = PlacementWorkflow.Decide(command, _placements[id]).ToList();
            }
            catch (CommandRejectedException)
            {
                return false;
            }

            ApplyPlacement(id, events);
            return true;
        }

        private void RunPlacement(string id, PlacementCommand command) => ApplyPlacement(id, PlacementWorkflow.Decide(command, _placements[id]).ToList());

        private void RunHome(string id, CareHomeCommand command) => ApplyHome(id, CareHomeWorkflow.Decide(command, _homes[id]).ToList());

        private void ApplyPlacement(string id, List<PlacementEvent> events)
        {
            var state = _placements[id];
            foreach (var e in events)
            {
                if (e is PlacementEvent.ReservationChecked { Kept: true } kept)
                {
                    _outcomes.Add("KeptAfterCheck");
                    if (((CareHomeState.Registered)_homes[kept.CqcLocationId]).ReservationFor(id) is { Confirmed: false })
                    {
                        // The booking's Confirm has not reached the home yet: the check must not take the bed.
                        _outcomes.Add(_crashed.Contains((id, kept.CqcLocationId)) ? "KeptBeforeConfirmAfterCrash" : "KeptBeforeConfirm");
                    }
                }

                state = PlacementWorkflow.Evolve(state, e);
                _history[id].Add(e);
                Route(PlacementWorkflow.React(PlacementWorkflow.Definition.StreamId(id), state, e), id);
            }

            _placements[id] = state;
        }

        private void ApplyHome(string id, List<CareHomeEvent> events)
        {
            var state = _homes[id];
            foreach (var e in events)
            {
                if (e is CareHomeEvent.VacanciesReported report && state is CareHomeState.Registered before && before.AdmittedSinceReport.Any(a => a.At <= report.AsOf))
                {
                    _outcomes.Add("AdmissionCountedByReport");
                }

                state = CareHomeWorkflow.Evolve(state, e);
                if (e is CareHomeEvent.BedReserved reserved && state is CareHomeState.Registered home)
                {
                    _held.Add(new Held(id, reserved.BedType, home.Held(reserved.BedType), home.Beds.GetValueOrDefault(reserved.BedType)?.VacantAccepting ?? 0));
                }

                if (e is CareHomeEvent.ReservationReleased { Reason: "The placement was not booked with this home." })
                {
                    _outcomes.Add("ReleasedAfterCheck");
                }

                Route(CareHomeWorkflow.React(CareHomeWorkflow.Definition.StreamId(id), state, e), null);
            }

            _homes[id] = state;
        }

        private void Route(IEnumerable<Reaction> reactions, string? placementId)
        {
            foreach (var reaction in reactions)
            {
                switch (reaction)
                {
                    case Reaction.Notify n:
                        _notes.Add(n.Notification);
                        if (placementId is not null)
                        {
                            CheckPrivate(placementId, n.Notification);
                        }

                        break;
                    case Reaction.Send { DueAt: { } due } s:
                        _timers.Add(new Timer(due, _seq++, s.Workflow, s.Key, s.Command));
                        break;
                    case Reaction.Send s:
                        _outbox.Enqueue((s.Workflow, s.Key, s.Command));
                        break;
                }
            }
        }

        private void Dispatch()
        {
            while (_outbox.TryDequeue(out var send))
            {
                Deliver(send.Workflow, send.Key, send.Command);
            }
        }

        /// <summary>A queued command or a timer: the target must always take it (it ignores what no longer applies).</summary>
        private void Deliver(string workflow, string key, object command)
        {
            try
            {
                if (workflow == PlacementWorkflow.Name)
                {
                    RunPlacement(key, (PlacementCommand)command);
                }
                else
                {
                    workflow.ShouldBe(CareHomeWorkflow.Name);
                    RunHome(key, (CareHomeCommand)command);
                }
            }
            catch (CommandRejectedException e)
            {
                throw new ShouldAssertException(Where($"{workflow}-{key} refused the reaction {command}: {e.Message}"));
            }
        }

        private void CheckPrivate(string placementId, Notification note)
        {
            string[] texts = [note.Title, note.Subject, note.Link ?? "", .. note.Data.Values];
            foreach (var secret in _secrets[placementId])
            {
                texts.Any(t => t.Contains(secret, StringComparison.Ordinal)).ShouldBeFalse(Where($"{note.Type} to {note.To} carries '{secret}'"));
            }
        }

        private string Where(string what) => $"step {_step} at {_now.ToString("O", CultureInfo.InvariantCulture)}: {what}";

        /// <summary>The invariants that hold after every step.</summary>
        private void Check()
        {
            foreach (var id in _placementIds)
            {
                var state = _placements[id];
                var history = _history[id];
                history.OfType<PlacementEvent.Booked>().Count().ShouldBeLessThanOrEqualTo(1, Where($"{id} booked twice"));

                // A booked placement holds a bed (confirmed or not yet) at its home until it is cancelled or admitted.
                if (state.Phase == PlacementPhase.Booked)
                {
                    ((CareHomeState.Registered)_homes[state.Booking!.CqcLocationId]).ReservationFor(id)
                        .ShouldNotBeNull(Where($"{id} is booked with {state.Booking.CqcLocationId} but holds no bed there"));
                }

                // Each offer is closed at most once, and exactly once when the placement is over.
                var terminal = state.Phase is PlacementPhase.Booked or PlacementPhase.Unplaced or PlacementPhase.Cancelled or PlacementPhase.Admitted;
                foreach (var offer in history.OfType<PlacementEvent.OffersMade>().SelectMany(m => m.Offers))
                {
                    var home = offer.CqcLocationId;
                    var closings = history.Count(e => e switch
                    {
                        PlacementEvent.Booked b => b.CqcLocationId == home,
                        PlacementEvent.OfferDeclined d => d.CqcLocationId == home,
                        PlacementEvent.OfferExpired x => x.CqcLocationId == home,
                        PlacementEvent.OffersWithdrawn w => w.CqcLocationIds.Contains(home),
                        _ => false,
                    });
                    closings.ShouldBeLessThanOrEqualTo(1, Where($"{id}: the offer to {home} was closed {closings} times"));
                    if (terminal)
                    {
                        closings.ShouldBe(1, Where($"{id} is {state.Phase} but the offer to {home} was closed {closings} times"));
                    }
                }

                if (terminal)
                {
                    state.OpenOffers.ShouldBeEmpty(Where($"{id} is {state.Phase} with open offers"));
                }

                state.Offers.Count.ShouldBe(history.OfType<PlacementEvent.OffersMade>().Sum(m => m.Offers.Count));
            }

            // No reservation ever took a bed the home had not reported as vacant and accepting.
            foreach (var held in _held)
            {
                held.HeldAfter.ShouldBeLessThanOrEqualTo(held.VacantThen, Where($"{held.Home} held {held.HeldAfter} {held.BedType} beds with {held.VacantThen} vacant"));
            }

            foreach (var home in _homes.Values.Cast<CareHomeState.Registered>())
            {
                foreach (var bedType in BedTypes)
                {
                    home.Free(bedType).ShouldBeGreaterThanOrEqualTo(0);
                }

                home.Reservations.Select(r => r.PlacementId).ShouldBeUnique(Where($"{home.CqcLocationId} holds two beds for one placement"));

                // A confirmed bed belongs to the placement booked there (once the outbox has been dispatched).
                if (_outbox.Count == 0)
                {
                    foreach (var r in home.Reservations.Where(r => r.Confirmed))
                    {
                        var owner = _placements[r.PlacementId];
                        (owner.Phase == PlacementPhase.Booked && owner.Booking!.CqcLocationId == home.CqcLocationId)
                            .ShouldBeTrue(Where($"{home.CqcLocationId} keeps a confirmed bed for {r.PlacementId}, which is {owner.Phase}"));
                    }
                }

                // An unconfirmed bed cannot leak: its placement's check of it is still to come.
                foreach (var r in home.Reservations.Where(r => !r.Confirmed))
                {
                    var check = _timers.Any(t =>
                        t.Workflow == PlacementWorkflow.Name && t.Key == r.PlacementId && t.Command is PlacementCommand.VerifyReservation v
                        && v.CqcLocationId == home.CqcLocationId && t.Due > _now);
                    var bookedHere = _placements[r.PlacementId] is { Phase: PlacementPhase.Booked } owner && owner.Booking!.CqcLocationId == home.CqcLocationId;
                    (check || bookedHere).ShouldBeTrue(Where($"{home.CqcLocationId} holds an unconfirmed bed for {r.PlacementId} that nothing will release"));
                }

                // Every admission since the home's last report still counts until a report as of its time or later
                // (once the outbox has been dispatched): a repeated report never undoes one.
                if (_outbox.Count == 0)
                {
                    var admittedHere = _placementIds
                        .Where(p => _placements[p] is { Phase: PlacementPhase.Admitted } s && s.Booking!.CqcLocationId == home.CqcLocationId)
                        .Select(p => (Id: p, At: _history[p].OfType<PlacementEvent.Admitted>().Single().At))
                        .ToList();
                    foreach (var (placementId, at) in admittedHere.Where(a => a.At > home.VacanciesAsOf))
                    {
                        home.AdmittedSinceReport.ShouldContain(
                            a => a.PlacementId == placementId && a.At == at, Where($"{home.CqcLocationId} forgot the admission of {placementId} at {at:O}"));
                    }

                    home.AdmittedSinceReport.Select(a => a.PlacementId).ShouldBeSubsetOf(
                        admittedHere.Select(a => a.Id), Where($"{home.CqcLocationId} counts an admission no placement recorded there"));
                }
            }
        }

        /// <summary>After every request ended and every timer fired: nothing is left hanging.</summary>
        private void CheckSettled()
        {
            _inFlight.ShouldBeEmpty();
            _outbox.ShouldBeEmpty();
            _timers.ShouldAllBe(t => t.Due > _now);
            foreach (var id in _placementIds)
            {
                var state = _placements[id];
                state.Phase.ShouldNotBe(PlacementPhase.AwaitingResponses, Where($"{id} still awaits responses after every deadline"));
                if (state.Phase == PlacementPhase.Unplaced)
                {
                    state.Escalated.ShouldBeTrue(Where($"{id} is unplaced past its required-by date {state.Details!.RequiredBy} but not escalated"));
                }

                var holders = _homes.Values.Cast<CareHomeState.Registered>().Where(h => h.ReservationFor(id) is not null).ToList();
                if (state.Phase == PlacementPhase.Booked)
                {
                    holders.Select(h => (h.CqcLocationId, h.ReservationFor(id)!.Confirmed)).ShouldBe([(state.Booking!.CqcLocationId, true)], Where($"{id} beds"));
                }
                else
                {
                    holders.ShouldBeEmpty(Where($"{id} is {state.Phase} but beds are still held for it"));
                }
            }
        }
    }
}
