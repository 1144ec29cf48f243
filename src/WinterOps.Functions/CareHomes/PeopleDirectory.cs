using WinterOps.Azure.Notifications;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.CareHomes;

/// <summary>
/// The people Teams reaches for a notification: those it names (the executive on call), and the
/// brokers with an Entra user id of each care home it is addressed to, read from the registry when
/// it is delivered, so a changed broker list takes effect at once.
/// </summary>
public sealed class PeopleDirectory(CareHomeStore homes) : IPeopleDirectory
{
    public async Task<IReadOnlyList<string>> PeopleForAsync(Notification notification, CancellationToken cancellationToken)
    {
        var people = new List<string>(notification.People ?? []);
        foreach (var recipient in notification.Recipients.Where(r => r.Kind == RecipientKind.Org && CareHomeEndpoints.CqcLocationId().IsMatch(r.Id)))
        {
            if (await homes.LoadAsync(recipient.Id, cancellationToken) is { } stored)
            {
                people.AddRange(stored.Home.Details.BrokerContacts.Select(b => b.EntraUserId).OfType<string>());
            }
        }

        return people.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
