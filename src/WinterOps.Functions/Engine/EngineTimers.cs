using Microsoft.Azure.Functions.Worker;
using WinterOps.Azure.Outbox;

namespace WinterOps.Functions.Engine;

/// <summary>The old engine's housekeeping timers (interim, see <see cref="EngineQueues"/>).</summary>
public sealed class EngineTimers(OutboxSweeper sweeper, PoisonQueues poison)
{
    /// <summary>Dispatches outboxes whose queue signal was lost (a crash between commit and signal).</summary>
    [Function("OutboxSweeper")]
    public Task OutboxSweeper([TimerTrigger("0 */1 * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);

    /// <summary>Tells the coordination centre when messages land in a poison queue.</summary>
    [Function("PoisonWatch")]
    public Task PoisonWatch([TimerTrigger("0 */15 * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        poison.WatchAsync(cancellationToken);
}
