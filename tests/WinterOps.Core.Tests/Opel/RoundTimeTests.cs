using WinterOps.Core.Opel;

namespace WinterOps.Core.Tests.Opel;

/// <summary>Round times are London wall-clock times: their UTC instants move with the clocks (BST from 2026-03-29, GMT from 2026-10-25).</summary>
public sealed class RoundTimeTests
{
    private static readonly DateOnly SpringForward = new(2026, 3, 29);
    private static readonly DateOnly FallBack = new(2026, 10, 25);

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void OnTheSpringChangeDay_TheRoundRunsOnBst()
    {
        London.At(SpringForward, new TimeOnly(8, 0)).UtcDateTime.ShouldBe(Utc(3, 29, 7).UtcDateTime);

        var schedule = RoundSchedule.For(SpringForward, new TimeOnly(10, 30), new TimeOnly(11, 0));

        schedule.ReminderAt.UtcDateTime.ShouldBe(Utc(3, 29, 9, 30).UtcDateTime);
        schedule.DeadlineAt.UtcDateTime.ShouldBe(Utc(3, 29, 10).UtcDateTime);
        schedule.ClosesAt.UtcDateTime.ShouldBe(Utc(3, 29, 23).UtcDateTime); // midnight BST
    }

    [Fact]
    public void OnTheAutumnChangeDay_TheRoundRunsOnGmt()
    {
        London.At(FallBack, new TimeOnly(8, 0)).UtcDateTime.ShouldBe(Utc(10, 25, 8).UtcDateTime);

        var schedule = RoundSchedule.For(FallBack, new TimeOnly(10, 30), new TimeOnly(11, 0));

        schedule.ReminderAt.UtcDateTime.ShouldBe(Utc(10, 25, 10, 30).UtcDateTime);
        schedule.DeadlineAt.UtcDateTime.ShouldBe(Utc(10, 25, 11).UtcDateTime);
        schedule.ClosesAt.UtcDateTime.ShouldBe(Utc(10, 26, 0).UtcDateTime); // midnight GMT
    }

    [Fact]
    public void TheChangeDays_StartAtLocalMidnight_AndHave23And25Hours()
    {
        London.StartOf(SpringForward).UtcDateTime.ShouldBe(Utc(3, 29, 0).UtcDateTime); // still GMT at midnight
        London.StartOf(FallBack).UtcDateTime.ShouldBe(Utc(10, 24, 23).UtcDateTime);    // still BST at midnight
        (London.StartOf(SpringForward.AddDays(1)) - London.StartOf(SpringForward)).ShouldBe(TimeSpan.FromHours(23));
        (London.StartOf(FallBack.AddDays(1)) - London.StartOf(FallBack)).ShouldBe(TimeSpan.FromHours(25));
    }

    [Fact]
    public void ATimeSkippedBySpringForward_CountsAsAfterTheChange()
    {
        London.At(SpringForward, new TimeOnly(1, 30)).UtcDateTime.ShouldBe(Utc(3, 29, 1, 30).UtcDateTime); // 02:30 BST
    }

    [Theory]
    [InlineData("2026-03-29T06:59:00Z", "2026-03-29", "07:59")]
    [InlineData("2026-03-29T07:00:00Z", "2026-03-29", "08:00")]
    [InlineData("2026-03-29T23:00:00Z", "2026-03-30", "00:00")]
    [InlineData("2026-10-25T07:59:00Z", "2026-10-25", "07:59")]
    [InlineData("2026-10-25T08:00:00Z", "2026-10-25", "08:00")]
    [InlineData("2026-10-24T23:00:00Z", "2026-10-25", "00:00")]
    [InlineData("2026-10-25T23:59:00Z", "2026-10-25", "23:59")]
    public void TodayAndTimeOfDay_AreLondonWallClock(string instant, string day, string time)
    {
        var now = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);

        London.Today(now).ShouldBe(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture));
        London.TimeOfDay(now).ShouldBe(TimeOnly.Parse(time, System.Globalization.CultureInfo.InvariantCulture));
    }
}
