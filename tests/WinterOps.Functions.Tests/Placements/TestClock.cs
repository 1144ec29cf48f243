namespace WinterOps.Functions.Tests.Placements;

/// <summary>
/// A clock the test sets: <see cref="GetUtcNow"/> returns <see cref="UtcNow"/>; timers and delays
/// still run on real time (the base implementation), so the app's background loops keep working.
/// </summary>
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public DateTimeOffset UtcNow
    {
        get => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _utcTicks, value.UtcTicks);
    }

    public override DateTimeOffset GetUtcNow() => UtcNow;
}
