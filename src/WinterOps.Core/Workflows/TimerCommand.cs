namespace WinterOps.Core.Workflows;

/// <summary>
/// A command that a timer sends, due at <see cref="At"/>. A timer can run late (the host was down,
/// or its queue was busy); it is then decided at the time it runs, so what it starts (the next
/// on-call alert, the next round of offers) gets its whole window, not one already spent.
/// </summary>
public interface ITimerCommand
{
    DateTimeOffset At { get; }

    /// <summary>The same command, decided at <paramref name="at"/>.</summary>
    ITimerCommand RunningAt(DateTimeOffset at);
}

public static class TimerCommands
{
    /// <summary><paramref name="command"/> as it runs at <paramref name="now"/>: a timer that is late is moved to now.</summary>
    public static TCommand RunningAt<TCommand>(TCommand command, DateTimeOffset now)
        where TCommand : class =>
        command is ITimerCommand timer && now > timer.At ? (TCommand)timer.RunningAt(now) : command;
}
