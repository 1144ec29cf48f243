using System.Globalization;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Outbox;

/// <summary>A workflow queue and how many messages wait in it and in its poison queue.</summary>
public sealed record QueueDepth(string Queue, int Waiting, int Poisoned);

/// <summary>
/// Messages the Functions host (or the local runner) gave up on land in "{queue}-poison". A lost
/// timer or command can stall a placement or hold a bed, so nothing may sit there silently: a timer
/// function tells the coordination centre, and a coordinator can put them back once the cause is fixed.
/// </summary>
public sealed partial class PoisonQueues(StorageAccount storage, IEnumerable<INotificationChannel> channels, TimeProvider time, ILogger<PoisonQueues> logger)
{
    public async Task<IReadOnlyList<QueueDepth>> DepthsAsync(CancellationToken cancellationToken)
    {
        var depths = new List<QueueDepth>();
        foreach (var name in StorageNames.Queues)
        {
            depths.Add(new QueueDepth(name, await CountAsync(storage.Queue(name), cancellationToken), await CountAsync(Poison(name), cancellationToken)));
        }

        return depths;
    }

    /// <summary>Tells the coordination centre of every poison queue with messages (at most once an hour per queue).</summary>
    public async Task<int> WatchAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var alerted = 0;
        foreach (var depth in (await DepthsAsync(cancellationToken)).Where(d => d.Poisoned > 0))
        {
            LogPoisoned(depth.Queue, depth.Poisoned);
            var notification = new Notification(
                "QueueMessagesFailed", Recipient.Role("Coordinator"), $"{depth.Poisoned} message(s) failed in {depth.Queue}", depth.Queue,
                new Dictionary<string, string> { ["queue"] = depth.Queue, ["poisoned"] = depth.Poisoned.ToString(CultureInfo.InvariantCulture) },
                $"/api/operations/queues");
            // One notice per queue and hour: a later check in the hour updates it (same id and time) instead of adding another.
            var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, now.Offset);
            var id = $"poison.{depth.Queue}.{now:yyyyMMddHH}";
            foreach (var channel in channels)
            {
                await channel.DeliverAsync(id, notification, hour, cancellationToken);
            }

            alerted++;
        }

        return alerted;
    }

    /// <summary>Moves a queue's poison messages back onto it; returns how many were moved.</summary>
    public async Task<int> RedriveAsync(string queue, CancellationToken cancellationToken)
    {
        var target = storage.Queue(queue);
        var poison = Poison(queue);
        var moved = 0;
        while (true)
        {
            QueueMessage[] messages;
            try
            {
                messages = (await poison.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), cancellationToken)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return moved; // never created: nothing ever failed there
            }

            if (messages is null || messages.Length == 0)
            {
                return moved;
            }

            foreach (var message in messages)
            {
                await target.SendMessageAsync(message.MessageText, cancellationToken);
                await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                moved++;
            }
        }
    }

    private QueueClient Poison(string queue) => storage.Queue($"{queue}-poison");

    private static async Task<int> CountAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        try
        {
            return (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0; // never created: nothing ever failed there
        }
    }

    [LoggerMessage(LogLevel.Error, "{Count} message(s) wait in the poison queue of {Queue}")]
    private partial void LogPoisoned(string queue, int count);
}
