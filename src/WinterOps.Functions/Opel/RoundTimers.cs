using WinterOps.Azure.Outbox;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Opel;

/// <summary>
/// Runs the round's commands from the queue. Its timers (remind, assess, re-assess) are decided on
/// inputs read from the return streams when they fall due. The inputs carry how many late returns
/// the round had noted before the read began, so one noted meanwhile asks for a re-assessment
/// rather than being missed, and a burst of late returns never stops the assessment.
/// </summary>
public sealed class RoundTimers(CommandHandler handler, RoundReader reader) : IQueuedCommandHandler
{
    /// <summary>Reads while late returns keep being noted during them (at the deadline, those from 10:58 arrive through the queue).</summary>
    public const int MaxReads = 3;

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
        var (state, head) = await handler.LoadAsync(round, round.StreamId(key), cancellationToken);
        if (head is null || !RoundWorkflow.NeedsInputs(command, state))
        {
            return await handler.HandleAsync(round, key, command, context, cancellationToken: cancellationToken);
        }

        RoundInputs inputs;
        for (var read = 1; ; read++)
        {
            inputs = await reader.ReadAsync(state.Date, cancellationToken) with { LateReturnsNoted = state.LateReturnsNoted };
            var (after, _) = await handler.LoadAsync(round, round.StreamId(key), cancellationToken);
            if (after.LateReturnsNoted == state.LateReturnsNoted || read == MaxReads)
            {
                break; // complete, or the decider asks for a re-assessment of what was noted meanwhile
            }

            state = after;
        }

        RoundCommand prepared = command switch
        {
            RoundCommand.Remind r => r with { Missing = inputs.Partners.Where(p => p.Missing).Select(p => p.OdsCode).ToList() },
            RoundCommand.Assess a => a with { Inputs = inputs },
            RoundCommand.Reassess r => r with { Inputs = inputs },
            _ => command,
        };
        return await handler.HandleAsync(round, key, prepared, context, cancellationToken: cancellationToken);
    }
}
