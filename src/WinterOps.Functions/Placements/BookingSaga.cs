using WinterOps.Core.CareHomes;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Http;

namespace WinterOps.Functions.Placements;

/// <summary>
/// Accepting an offer across two streams: check the offer can be accepted, reserve a bed on the home's
/// stream (optimistic concurrency: the last bed goes to one placement), then book the placement. If
/// the booking is refused and the home can no longer be booked (another home won, the placement was
/// cancelled) the bed is given back at once. Otherwise, and after a crash in between, the placement's
/// reservation check (a timer the reservation sets) keeps or releases it; the booking's reaction
/// confirms the winner's bed and releases every other offered home's.
/// </summary>
public sealed class BookingSaga(CommandHandler handler)
{
    /// <param name="version">The placement's version that <paramref name="state"/> is.</param>
    /// <param name="expectedVersion">The version If-Match named, if any: the booking expects it.</param>
    /// <param name="context">The command context of each step (null: the booking itself).</param>
    public async Task<CommandResult<PlacementState>> AcceptAsync(
        PlacementState state, long version, long? expectedVersion, PlacementCommand.Accept accept, Func<string?, CommandContext> context,
        CancellationToken cancellationToken)
    {
        var placementId = state.PlacementId;
        var home = accept.CqcLocationId;
        if (expectedVersion is { } expected && expected != version)
        {
            throw new VersionMismatchException(PlacementWorkflow.Definition.StreamId(placementId), expected, version); // before holding a bed
        }

        try
        {
            _ = PlacementWorkflow.Decide(accept, state).ToList(); // refuses now, before holding a bed, if the offer is not open
        }
        catch (CommandRejectedException rejected)
        {
            throw new CommandRejectedException(rejected.Message) { State = Names<PlacementPhase>.Of(state.Phase) };
        }

        await handler.HandleAsync(
            CareHomeWorkflow.Definition, home, new CareHomeCommand.Reserve(placementId, state.Details!.BedType, accept.At), context("reserve"),
            cancellationToken: cancellationToken);
        try
        {
            return await handler.HandleAsync(PlacementWorkflow.Definition, placementId, accept, context(null), expectedVersion, cancellationToken);
        }
        catch (Exception e) when (e is CommandRejectedException or ConcurrencyException or VersionMismatchException)
        {
            // While the home's offer is open another accept from it may be on its way, sharing the reservation.
            var (after, _) = await handler.LoadAsync(PlacementWorkflow.Definition, PlacementWorkflow.Definition.StreamId(placementId), CancellationToken.None);
            if (after.OpenOffer(home) is null && after.Booking?.CqcLocationId != home)
            {
                await handler.HandleAsync(
                    CareHomeWorkflow.Definition, home, new CareHomeCommand.Release(placementId, "The acceptance could not be booked."), context("release"),
                    cancellationToken: CancellationToken.None);
            }

            throw;
        }
    }
}
