using WinterOps.Azure.Notifications;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.CareHomes;

/// <summary>
/// The people Teams reaches for a notification: those it names (the executive on call), and the
/// brokers with an Entra user id of each care home it is addressed to, read from the registry when
/// it is delivered, so a changed broker list takes effect at once.
/// </summary>
public sealed class PeopleDirectory(CommandHandler handler) : IPeopleDirectory
{
    public async Task<IReadOnlyList<string>> PeopleForAsync(Notification notification, CancellationToken cancellationToken)
    {
        var people = new List<string>(notification.People ?? []);
        foreach (var recipient in notification.Recipients.Where(r => r.Kind == RecipientKind.Org && CareHomeEndpoints.CqcLocationId().IsMatch(r.Id)))
        {
            var (home, _) = await handler.LoadAsync(CareHomeWorkflow.Definition, CareHomeWorkflow.Definition.StreamId(recipient.Id), cancellationToken);
            if (home is CareHomeState.Registered registered)
            {
                people.AddRange(registered.Details.BrokerContacts.Select(b => b.EntraUserId).OfType<string>());
            }
        }

        return people.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
