using WinterOps.Azure.Outbox;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>
/// Runs the round's commands from the queue. Its timers (remind, assess, re-assess) are decided on
/// inputs read from the return streams when they fall due; the append then expects the version read
/// before reading, so a late return that lands meanwhile makes it read again rather than be missed.
/// </summary>
public sealed class RoundTimers(CommandHandler handler, RoundReader reader) : IQueuedCommandHandler
{
    /// <summary>Reads before giving the command back to the queue (a burst of late returns keeps moving the round on).</summary>
    public const int MaxReads = 5;

    public string Workflow => RoundWorkflow.Name;

    public async Task<CommandOutcome> RunAsync(QueuedCommand command, CommandContext context, CancellationToken cancellationToken)
    {
        var result = await RunAsync(command.Key, RoundWorkflow.Definition.Commands.Deserialize(command.CommandType, command.Command), context, cancellationToken);
        return new CommandOutcome(result.StreamId, result.Version, result.NewEvents.Count);
    }

    /// <summary>Decides <paramref name="command"/> on the round of <paramref name="key"/>, reading its inputs first when it needs them.</summary>
    public async Task<CommandResult<RoundState>> RunAsync(string key, RoundCommand command, CommandContext context, CancellationToken cancellationToken)
    {
        var round = RoundWorkflow.Definition;
        for (var read = 1; ; read++)
        {
            var (state, head) = await handler.LoadAsync(round, round.StreamId(key), cancellationToken);
            if (head is null || !RoundWorkflow.NeedsInputs(command, state))
            {
                return await handler.HandleAsync(round, key, command, context, cancellationToken: cancellationToken);
            }

            var inputs = await reader.ReadAsync(state.Date, cancellationToken);
            RoundCommand prepared = command switch
            {
                RoundCommand.Remind r => r with { Missing = inputs.Partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList() },
                RoundCommand.Assess a => a with { Inputs = inputs },
                RoundCommand.Reassess r => r with { Inputs = inputs },
                _ => command,
            };
            try
            {
                return await handler.HandleAsync(round, key, prepared, context, expectedVersion: head.Version, cancellationToken);
            }
            catch (VersionMismatchException) when (read < MaxReads)
            {
                // A late return arrived while the inputs were read: read them again.
            }
        }
    }
}
