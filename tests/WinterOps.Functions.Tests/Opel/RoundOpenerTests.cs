using WinterOps.Core;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>The DailyTick opens today's round at 08:00 London, whichever offset London is on, and only once.</summary>
public sealed class RoundOpenerTests
{
    [Theory]
    [InlineData("2026-03-29", "2026-03-29T06:59:00Z", "2026-03-29T07:00:00Z")] // BST starts at 01:00 UTC
    [InlineData("2026-10-25", "2026-10-25T07:59:00Z", "2026-10-25T08:00:00Z")] // GMT again from 01:00 UTC
    public async Task Tick_OpensTheRoundAt0800London_OnTheDaysTheClocksChange(string date, string oneMinuteBefore, string opening)
    {
        await using var round = await OpelRound.StartAsync(localTriggers: false);
        await round.RegisterAsync([1, 2]);
        await round.RegisterAsync([3], n => OpelRound.PartnerBody(n, expectedDaily: false));
        var day = DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture);

        round.Clock.UtcNow = DateTimeOffset.Parse(oneMinuteBefore, System.Globalization.CultureInfo.InvariantCulture);
        London.TimeOfDay(round.Clock.UtcNow).ShouldBe(new TimeOnly(7, 59));
        (await round.TickAsync()).ShouldBeNull();
        (await round.RoundEventsAsync(day)).ShouldBeEmpty();

        round.Clock.UtcNow = DateTimeOffset.Parse(opening, System.Globalization.CultureInfo.InvariantCulture);
        (await round.TickAsync()).ShouldBe(day);

        (await round.RoundEventsAsync(day)).ShouldBe(["RoundOpened"]);
        var view = await round.RoundAsync(day);
        view.GetProperty("status").GetString().ShouldBe("collecting");
        view.GetProperty("expected").GetInt32().ShouldBe(2);
        view.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).Order(StringComparer.Ordinal).ShouldBe(["Z0001", "Z0002"]);
        view.GetProperty("deadlineAt").GetDateTimeOffset().ShouldBe(London.At(day, new TimeOnly(11, 0)));
    }

    [Fact]
    public async Task Tick_Again_LaterTheSameDay_OpensNothingNew()
    {
        await using var round = await OpelRound.StartAsync(localTriggers: false);
        await round.RegisterAsync([1, 2]);
        var day = new DateOnly(2026, 11, 23);
        round.SetLondon(day, 8, 5);
        (await round.TickAsync()).ShouldBe(day);
        await round.RegisterAsync([4]); // registered after opening: not expected today

        round.SetLondon(day, 13, 40); // e.g. after a restart mid-day
        await round.TickAsync();
        round.SetLondon(day, 23, 55);
        await round.TickAsync();

        (await round.RoundEventsAsync(day)).ShouldBe(["RoundOpened"]);
        (await round.RoundAsync(day)).GetProperty("expected").GetInt32().ShouldBe(2);
    }

    [Fact]
    public async Task Tick_OnTheNextDay_OpensThatDaysRound()
    {
        await using var round = await OpelRound.StartAsync(localTriggers: false);
        await round.RegisterAsync([1]);
        var day = new DateOnly(2026, 11, 23);
        round.SetLondon(day, 9);
        (await round.TickAsync()).ShouldBe(day);

        round.SetLondon(day.AddDays(1), 7, 55);
        (await round.TickAsync()).ShouldBeNull();
        round.SetLondon(day.AddDays(1), 8, 0);
        (await round.TickAsync()).ShouldBe(day.AddDays(1));

        (await round.RoundEventsAsync(day.AddDays(1))).ShouldBe(["RoundOpened"]);
        (await round.RoundEventsAsync(day)).ShouldBe(["RoundOpened"]);
    }
}
