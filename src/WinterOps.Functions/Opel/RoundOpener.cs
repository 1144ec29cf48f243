using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>Round times in Europe/London wall-clock time (section <c>Opel</c>), with the defaults of DOMAIN.md.</summary>
public sealed class RoundOptions
{
    public TimeOnly OpensAt { get; set; } = new(8, 0);

    public TimeOnly ReminderAt { get; set; } = new(10, 30);

    public TimeOnly DeadlineAt { get; set; } = new(11, 0);
}

/// <summary>
/// The daily tick (a timer function, every 5 minutes in UTC): once London time is past the opening
/// time, opens today's round if it is not open, with every partner expected daily and their last
/// known level carried forward. Idempotent, so a restart in the middle of the day changes nothing,
/// and correct on the days the clocks change because it compares London wall-clock time.
/// </summary>
public sealed partial class RoundOpener(
    CommandHandler handler, IEventStore store, FrameworkSet frameworks, RoundOptions options, TimeProvider time, ILogger<RoundOpener> logger)
{
    /// <summary>Opens today's round when due; returns today's date once the round is due (opened now or before), else null.</summary>
    public Task<DateOnly?> TickAsync(CancellationToken cancellationToken) => OpenTodayAsync(force: false, cancellationToken);

    /// <summary>Opens today's round if it is not open; before the opening time only when <paramref name="force"/> (the demo).</summary>
    public async Task<DateOnly?> OpenTodayAsync(bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!force && London.TimeOfDay(now) < options.OpensAt)
        {
            return null;
        }

        var today = London.Today(now);
        var round = RoundWorkflow.Definition;
        var (state, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(today)), cancellationToken);
        if (state.Phase != RoundPhase.NotOpen)
        {
            return today; // already open: nothing to do
        }

        var (yesterday, _) = await handler.LoadAsync(round, round.StreamId(RoundWorkflow.Key(today.AddDays(-1))), cancellationToken);
        var carried = yesterday.Assessment?.Partners.ToDictionary(p => p.OdsCode, p => p.EffectiveLevel) ?? [];
        var expected = new List<ExpectedPartner>();
        await foreach (var head in store.ReadHeadsAsync(PartnerWorkflow.Name, cancellationToken))
        {
            if (PartnerWorkflow.Definition.States.Deserialize(head.StateType, head.State) is PartnerState.Registered { Details.ExpectedDaily: true } p)
            {
                expected.Add(new ExpectedPartner(p.OdsCode, p.Details.Sector, p.Details.SizeWeight, carried.GetValueOrDefault(p.OdsCode)));
            }
        }

        var result = await handler.HandleAsync(
            round, RoundWorkflow.Key(today),
            new RoundCommand.Open(today, expected, frameworks.PillarWeights, RoundSchedule.For(today, options.ReminderAt, options.DeadlineAt), now),
            new CommandContext($"open-round-{RoundWorkflow.Key(today)}", Actor.System("daily-tick"), now), cancellationToken: cancellationToken);
        if (result.NewEvents.Count > 0)
        {
            LogOpened(today, expected.Count);
        }

        return today;
    }

    [LoggerMessage(LogLevel.Information, "OPEL round {Date} opened; {Expected} partners expected")]
    private partial void LogOpened(DateOnly date, int expected);
}
