namespace WinterOps.Core;

/// <summary>Business rules run on Europe/London local time (GMT/BST), whatever the server's zone.</summary>
public static class London
{
    public static TimeZoneInfo Zone { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");

    public static DateOnly Today(DateTimeOffset now) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, Zone).DateTime);

    /// <summary>The instant a London calendar day starts (00:00 local), correct on the days the clocks change.</summary>
    public static DateTimeOffset StartOf(DateOnly day) => At(day, TimeOnly.MinValue);

    /// <summary>The instant of a London wall-clock time on a day (a time skipped by the spring change counts as after it).</summary>
    public static DateTimeOffset At(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time);
        if (Zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }

    /// <summary>The London wall-clock time of an instant.</summary>
    public static TimeOnly TimeOfDay(DateTimeOffset now) => TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, Zone).DateTime);
}
