using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Opel;

/// <summary>One submission (or revision) of a partner's daily return, scored when it was made.</summary>
public sealed record ReturnRevision(
    int Revision,
    IReadOnlyDictionary<string, decimal> Metrics,
    int? ComputedLevel,
    decimal? Score,
    IReadOnlyList<ParameterScore> Breakdown,
    int? DeclaredLevel,
    string? Reason,
    string? Comment,
    int EffectiveLevel,
    string FrameworkVersion,
    string SubmittedBy,
    DateTimeOffset At);

public abstract record ReturnCommand
{
    private ReturnCommand()
    {
    }

    /// <summary>
    /// Submit or revise a partner's return for a date. The endpoint validates the metrics against the
    /// sector's table and scores them (<see cref="Scoring.Score"/>) before sending this.
    /// </summary>
    public sealed record Submit(
        DateOnly Date, string OdsCode, Sector Sector, decimal SizeWeight, IReadOnlyDictionary<string, decimal> Metrics, Assessment Assessment,
        int? DeclaredLevel, string? Reason, string? Comment, string FrameworkVersion, string SubmittedBy, DateTimeOffset At) : ReturnCommand;
}

public abstract record ReturnEvent
{
    private ReturnEvent()
    {
    }

    /// <summary>A partner submitted its daily return (revision 1) or revised it (2, 3, ...); earlier revisions are kept.</summary>
    public sealed record Submitted(DateOnly Date, string OdsCode, Sector Sector, decimal SizeWeight, ReturnRevision Revision) : ReturnEvent;
}

/// <summary>A partner's return for one date: every revision, the latest in force.</summary>
public sealed record ReturnState(DateOnly Date, string OdsCode, Sector Sector, IReadOnlyList<ReturnRevision> Revisions)
{
    public static ReturnState Initial { get; } = new(default, "", default, []);

    public ReturnRevision? Latest => Revisions.Count == 0 ? null : Revisions[^1];
}

/// <summary>
/// The daily OPEL return: one stream per partner and date ("return-2026-11-22-RZ1"), so returns from
/// many partners never contend on one row. The round reads them when it assesses; only returns from
/// near the deadline onwards are announced to it (by the HTTP function), so that it re-assesses.
/// </summary>
public static class ReturnWorkflow
{
    public const string Name = "return";

    public static string Key(DateOnly date, string odsCode) => $"{RoundWorkflow.Key(date)}-{odsCode}";

    public static readonly WorkflowDefinition<ReturnState, ReturnCommand, ReturnEvent> Definition = new(
        Name,
        ReturnState.Initial,
        Decide,
        Evolve,
        React,
        new TypeNames<ReturnCommand>(("SubmitReturn", typeof(ReturnCommand.Submit))),
        new TypeNames<ReturnEvent>(("ReturnSubmitted", typeof(ReturnEvent.Submitted))),
        new TypeNames<ReturnState>(("DailyReturn", typeof(ReturnState))));

    public static IEnumerable<ReturnEvent> Decide(ReturnCommand command, ReturnState state) => command switch
    {
        ReturnCommand.Submit c when state.Latest is { } latest && Same(latest, c) => [],
        ReturnCommand.Submit c => [new ReturnEvent.Submitted(c.Date, c.OdsCode, c.Sector, c.SizeWeight, Revision(c, state.Revisions.Count + 1))],
        _ => throw new CommandRejectedException($"{command.GetType().Name} does not apply to a daily return."),
    };

    public static ReturnState Evolve(ReturnState state, ReturnEvent @event) => @event switch
    {
        ReturnEvent.Submitted e => new ReturnState(e.Date, e.OdsCode, e.Sector, [.. state.Revisions, e.Revision]),
        _ => state,
    };

    /// <summary>
    /// The return's HTTP function tells the others (rule 2's escalation, the round from near its deadline) from
    /// the state, so a retried request that changes nothing still tells them.
    /// </summary>
    public static IEnumerable<Reaction> React(string streamId, ReturnState state, ReturnEvent @event) => [];

    /// <summary>Whether the revision in force raises rule 2 (a partner at OPEL 4): made on its own day; a later revision changes that day's record, not its alerts.</summary>
    public static bool AtOpel4(ReturnState state) =>
        state.Latest is { EffectiveLevel: 4 } latest && latest.At < London.StartOf(state.Date.AddDays(1));

    private static ReturnRevision Revision(ReturnCommand.Submit c, int revision)
    {
        var effective = c.DeclaredLevel ?? c.Assessment.Level
            ?? throw new CommandRejectedException("Too few metrics to compute a level: declare a level with a reason.");
        return new ReturnRevision(
            revision, c.Metrics, c.Assessment.Level, c.Assessment.Score, c.Assessment.Breakdown, c.DeclaredLevel, c.Reason, c.Comment,
            effective, c.FrameworkVersion, c.SubmittedBy, c.At);
    }

    /// <summary>A repeated submission of what is already in force changes nothing.</summary>
    private static bool Same(ReturnRevision latest, ReturnCommand.Submit c) =>
        latest.DeclaredLevel == c.DeclaredLevel && latest.Reason == c.Reason && latest.Comment == c.Comment
        && latest.Metrics.Count == c.Metrics.Count && latest.Metrics.All(m => c.Metrics.TryGetValue(m.Key, out var v) && v == m.Value);
}
