using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Engine;

/// <summary>A queue of the old workflow engine and what handles one of its messages.</summary>
public sealed record QueueFunction(string Name, string QueueName, Func<IServiceProvider, string, CancellationToken, Task> Run);

/// <summary>
/// Interim, until [placement-durable], [round-durable] and [notify-sdk] move the workflows onto Durable
/// orchestrations and [no-engine] deletes this: the old engine's storage queues (outbox dispatch,
/// workflow commands and timers, notification deliveries), polled in-process by whichever host runs the
/// app, with the retry and poison rules the Functions queue extension had (10 attempts, 1 minute apart).
/// </summary>
public sealed partial class EngineQueues(
    IServiceProvider services, StorageAccount storage, StorageProvisioner provisioner, TimeProvider time, ILogger<EngineQueues> logger)
    : BackgroundService
{
    public const int MaxDequeueCount = 10;
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromMinutes(1);
    private const int BatchSize = 16;

    public static IReadOnlyList<QueueFunction> All { get; } =
    [
        new("OutboxDispatch", StorageNames.DispatchQueue, async (services, message, ct) =>
            await services.GetRequiredService<OutboxDispatcher>().DispatchAsync(Read<DispatchRequest>(message).StreamId, ct)),
        new("WorkflowCommands", StorageNames.CommandsQueue, async (services, message, ct) =>
            await services.GetRequiredService<QueuedCommandRunner>().RunAsync(Read<QueuedCommand>(message), ct)),
        new("WorkflowTimers", StorageNames.TimersQueue, async (services, message, ct) =>
            await services.GetRequiredService<QueuedCommandRunner>().RunAsync(Read<QueuedCommand>(message), ct)),
        new("NotificationDelivery", StorageNames.DeliveriesQueue, async (services, message, ct) =>
            await services.GetRequiredService<Deliveries>().DeliverAsync(Read<DeliveryRequest>(message), ct)),
    ];

    /// <summary>
    /// Handles one message: true when done, false when it can never be processed (it goes to the poison
    /// queue at once); any other exception leaves it for a retry.
    /// </summary>
    public static async Task<bool> HandleAsync(QueueFunction queue, IServiceProvider services, string message, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Run(services, message, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or UnknownTypeException or InvalidOperationException { Source: "System.Text.Json" })
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.Ready.WaitAsync(stoppingToken);
        await Task.WhenAll(All.Select(q => PollAsync(q, stoppingToken)));
    }

    private async Task PollAsync(QueueFunction function, CancellationToken stoppingToken)
    {
        var queue = storage.Queue(function.QueueName);
        var poison = storage.Queue($"{function.QueueName}-poison");
        var idle = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                QueueMessage[] messages = await queue.ReceiveMessagesAsync(BatchSize, VisibilityTimeout, stoppingToken);
                await Task.WhenAll(messages.Select(m => ProcessAsync(function, queue, poison, m, stoppingToken)));
                idle = messages.Length > 0 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromMilliseconds(Math.Min(1000, idle.TotalMilliseconds * 2));
                if (messages.Length == 0)
                {
                    await Task.Delay(idle, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A storage hiccup must not stop the pump; it polls again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogPollFailed(e, function.QueueName);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ProcessAsync(QueueFunction function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        bool done;
        try
        {
            done = await HandleAsync(function, services, message.MessageText, stoppingToken);
            if (!done)
            {
                LogNeverProcessable(function.Name, message.MessageId);
            }
        }
#pragma warning disable CA1031 // Like the Functions host: a failed invocation leaves the message for a retry.
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogFailed(e, function.Name, message.MessageId, message.DequeueCount);
            if (message.DequeueCount < MaxDequeueCount)
            {
                return;
            }

            done = false;
        }

        if (!done)
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
            await poison.SendMessageAsync(message.MessageText, stoppingToken);
        }

        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
    }

    private static T Read<T>(string message) =>
        JsonSerializer.Deserialize<T>(message, WorkflowJson.Options) ?? throw new JsonException($"The message is empty; expected a {typeof(T).Name}.");

    [LoggerMessage(LogLevel.Warning, "Polling queue {Queue} failed; retrying")]
    private partial void LogPollFailed(Exception exception, string queue);

    [LoggerMessage(LogLevel.Error, "{Function} can never process message {MessageId}; it goes to the poison queue")]
    private partial void LogNeverProcessable(string function, string messageId);

    [LoggerMessage(LogLevel.Error, "{Function} failed on message {MessageId} (attempt {DequeueCount})")]
    private partial void LogFailed(Exception exception, string function, string messageId, long dequeueCount);
}
