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

/// <summary>
/// A submission (or revision) of a partner's return for a date. The endpoint validates the metrics against the
/// sector's table and scores them (<see cref="Scoring.Score"/>) before making one.
/// </summary>
public sealed record ReturnSubmission(
    DateOnly Date, string OdsCode, Sector Sector, decimal SizeWeight, IReadOnlyDictionary<string, decimal> Metrics, Assessment Assessment,
    int? DeclaredLevel, string? Reason, string? Comment, string FrameworkVersion, string SubmittedBy, DateTimeOffset At);

/// <summary>A partner's return for one date: every revision, the latest in force.</summary>
public sealed record ReturnState(DateOnly Date, string OdsCode, Sector Sector, IReadOnlyList<ReturnRevision> Revisions)
{
    public ReturnRevision? Latest => Revisions.Count == 0 ? null : Revisions[^1];
}

/// <summary>
/// The daily OPEL return's rules: one return per partner and date, revised any number of times, every revision kept.
/// The round reads the returns when it assesses; only returns from near the deadline onwards are announced to it (by the
/// HTTP function), so that it re-assesses.
/// </summary>
public static class ReturnRules
{
    /// <summary>The revision <paramref name="submission"/> makes after <paramref name="latest"/>, or null when it repeats what is in force.</summary>
    public static ReturnRevision? Revise(ReturnRevision? latest, ReturnSubmission submission)
    {
        if (latest is not null && Same(latest, submission))
        {
            return null;
        }

        var effective = submission.DeclaredLevel ?? submission.Assessment.Level
            ?? throw new CommandRejectedException("Too few metrics to compute a level: declare a level with a reason.");
        return new ReturnRevision(
            (latest?.Revision ?? 0) + 1, submission.Metrics, submission.Assessment.Level, submission.Assessment.Score, submission.Assessment.Breakdown,
            submission.DeclaredLevel, submission.Reason, submission.Comment, effective, submission.FrameworkVersion, submission.SubmittedBy, submission.At);
    }

    /// <summary>Whether the revision in force raises rule 2 (a partner at OPEL 4): made on its own day; a later revision changes that day's record, not its alerts.</summary>
    public static bool AtOpel4(DateOnly date, ReturnRevision? latest) =>
        latest is { EffectiveLevel: 4 } && latest.At < London.StartOf(date.AddDays(1));

    /// <summary>A repeated submission of what is already in force changes nothing.</summary>
    private static bool Same(ReturnRevision latest, ReturnSubmission c) =>
        latest.DeclaredLevel == c.DeclaredLevel && latest.Reason == c.Reason && latest.Comment == c.Comment
        && latest.Metrics.Count == c.Metrics.Count && latest.Metrics.All(m => c.Metrics.TryGetValue(m.Key, out var v) && v == m.Value);
}
