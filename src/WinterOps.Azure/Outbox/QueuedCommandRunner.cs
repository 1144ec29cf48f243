using Microsoft.Extensions.Logging;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Outbox;

/// <summary>
/// Runs the queued commands of one workflow whose deciders need inputs read first (the round's
/// timers read the day's returns); other workflows' commands go straight to the command handler.
/// </summary>
public interface IQueuedCommandHandler
{
    string Workflow { get; }

    Task<CommandOutcome> RunAsync(QueuedCommand command, CommandContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Runs a command that arrived through a queue (from another stream, or a timer that fell due).
/// A timer that is not yet due (a chained wait past 7 days) goes back to the queue for the rest.
/// </summary>
public sealed partial class QueuedCommandRunner(
    WorkflowCatalog catalog, CommandHandler handler, IEnumerable<IQueuedCommandHandler> handlers, WorkflowQueues queues, TimeProvider time,
    ILogger<QueuedCommandRunner> logger)
{
    private readonly Dictionary<string, IQueuedCommandHandler> _handlers = handlers.ToDictionary(h => h.Workflow, StringComparer.Ordinal);

    public async Task RunAsync(QueuedCommand command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (command.DueAt > now)
        {
            await queues.SendAsync(command, cancellationToken);
            return;
        }

        var context = new CommandContext(command.CommandId, Actor.System(command.DueAt is null ? "workflow" : "timer"), now);
        try
        {
            var outcome = _handlers.TryGetValue(command.Workflow, out var special)
                ? await special.RunAsync(command, context, cancellationToken)
                : await catalog.Get(command.Workflow).HandleSerializedAsync(handler, command.Key, command.CommandType, command.Command, context, cancellationToken);
            LogRan(command.CommandType, outcome.StreamId, outcome.NewEvents, command.CausedBy);
        }
        catch (ConcurrencyException)
        {
            // A busy stream (a round recording hundreds of returns): try again in a few seconds,
            // not after the host's visibility timeout. The command id keeps it applied once.
            await queues.RetryLaterAsync(command, TimeSpan.FromMilliseconds(500 + Random.Shared.Next(2500)), cancellationToken);
            LogRetry(command.CommandType, command.Workflow, command.Key);
        }
        catch (CommandRejectedException rejected)
        {
            // A domain "no" is an answer, not a failure: retrying would not change it.
            LogRejected(command.CommandType, command.Workflow, command.Key, rejected.Message);
        }
    }

    [LoggerMessage(LogLevel.Information, "Queued {CommandType} on {StreamId} added {Events} events (caused by {CausedBy})")]
    private partial void LogRan(string commandType, string streamId, int events, string causedBy);

    [LoggerMessage(LogLevel.Information, "Queued {CommandType} on {Workflow} {Key} met a busy stream; retrying shortly")]
    private partial void LogRetry(string commandType, string workflow, string key);

    [LoggerMessage(LogLevel.Warning, "Queued {CommandType} on {Workflow} {Key} was rejected: {Reason}")]
    private partial void LogRejected(string commandType, string workflow, string key, string reason);
}
