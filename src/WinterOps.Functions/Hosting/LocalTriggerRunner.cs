using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Cronos;
using WinterOps.Azure.Storage;

namespace WinterOps.Functions.Hosting;

/// <summary>
/// Plays the Functions host's part when the program runs on its own (locally): polls the queues and
/// fires the timers named in the function.json files next to the executable, and invokes the same
/// handlers with the host's payload shape. Off under the real host (FUNCTIONS_CUSTOMHANDLER_PORT set).
/// Deliberately small: no scaling, no leases, one process.
/// </summary>
public sealed partial class LocalTriggerRunner(
    IServiceProvider services, StorageAccount storage, StorageProvisioner provisioner, TimeProvider time, ILogger<LocalTriggerRunner> logger)
    : BackgroundService
{
    public static string FunctionsDirectory => AppContext.BaseDirectory;

    /// <summary>The retry settings of host.json's queue extension, so a local failure is retried as in Azure.</summary>
    private readonly (int MaxDequeueCount, TimeSpan VisibilityTimeout, int BatchSize) _queues = ReadQueueSettings();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.Ready.WaitAsync(stoppingToken);
        var declared = FunctionManifest.Read(FunctionsDirectory);
        var loops = new List<Task>();
        foreach (var function in TriggerFunctions.All)
        {
            if (!declared.TryGetValue(function.Name, out var json))
            {
                LogMissing(function.Name);
                continue;
            }

            var binding = json["bindings"]![0]!;
            loops.Add((string?)binding["type"] switch
            {
                "queueTrigger" => PollAsync(function, (string)binding["queueName"]!, stoppingToken),
                "timerTrigger" => TickAsync(function, (string)binding["schedule"]!, stoppingToken),
                var other => throw new InvalidOperationException($"{function.Name}: unsupported trigger {other}."),
            });
        }

        await Task.WhenAll(loops);
    }

    private async Task PollAsync(TriggerFunction function, string queueName, CancellationToken stoppingToken)
    {
        var queue = storage.Queue(queueName);
        var poison = storage.Queue($"{queueName}-poison");
        var idle = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                QueueMessage[] messages = await queue.ReceiveMessagesAsync(_queues.BatchSize, _queues.VisibilityTimeout, stoppingToken);
                await Task.WhenAll(messages.Select(m => HandleAsync(function, queue, poison, m, stoppingToken)));
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
#pragma warning disable CA1031 // A storage hiccup must not stop the runner; it polls again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogPollFailed(e, queueName);
                await Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    private async Task HandleAsync(TriggerFunction function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject { [function.Binding.BindingName] = JsonValue.Create(message.MessageText) },
            ["Metadata"] = new JsonObject
            {
                ["DequeueCount"] = message.DequeueCount,
                ["Id"] = message.MessageId,
                ["InsertionTime"] = message.InsertedOn,
                ["NextVisibleTime"] = message.NextVisibleOn,
                ["PopReceipt"] = message.PopReceipt,
            },
        };

        int status;
        try
        {
            (status, var log) = await TriggerFunctions.InvokeAsync(function, services, payload, stoppingToken);
            LogInvoked(function.Name, status, log);
        }
#pragma warning disable CA1031 // Like the host: a failed invocation leaves the message for a retry.
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogInvocationFailed(e, function.Name, message.MessageId, message.DequeueCount);
            status = StatusCodes.Status500InternalServerError;
        }

        if (status != StatusCodes.Status200OK && message.DequeueCount < _queues.MaxDequeueCount)
        {
            return;
        }

        if (status != StatusCodes.Status200OK)
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
            await poison.SendMessageAsync(message.MessageText, stoppingToken);
        }

        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
    }

    private async Task TickAsync(TriggerFunction function, string schedule, CancellationToken stoppingToken)
    {
        var cron = CronExpression.Parse(schedule, CronFormat.IncludeSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = cron.GetNextOccurrence(now, TimeZoneInfo.Utc) ?? now.AddDays(1);
            if (!await Delay(next - now, stoppingToken))
            {
                return;
            }

            var payload = new JsonObject
            {
                ["Data"] = new JsonObject { [function.Binding.BindingName] = new JsonObject { ["Schedule"] = schedule, ["IsPastDue"] = false } },
                ["Metadata"] = new JsonObject(),
            };
            try
            {
                var (status, log) = await TriggerFunctions.InvokeAsync(function, services, payload, stoppingToken);
                LogInvoked(function.Name, status, log);
            }
#pragma warning disable CA1031 // A failed tick is logged; the next one runs on schedule.
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                LogInvocationFailed(e, function.Name, "timer", 1);
            }
        }
    }

    private static (int, TimeSpan, int) ReadQueueSettings()
    {
        var queues = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsDirectory, "host.json")))?["extensions"]?["queues"];
        return (
            (int?)queues?["maxDequeueCount"] ?? 5,
            TimeSpan.Parse((string?)queues?["visibilityTimeout"] ?? "00:00:30", System.Globalization.CultureInfo.InvariantCulture),
            (int?)queues?["batchSize"] ?? 16);
    }

    private async Task<bool> Delay(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Function {Function} has no function.json next to the executable; it will not run locally")]
    private partial void LogMissing(string function);

    [LoggerMessage(LogLevel.Warning, "Polling queue {Queue} failed; retrying")]
    private partial void LogPollFailed(Exception exception, string queue);

    [LoggerMessage(LogLevel.Debug, "Function {Function} answered {Status}: {Log}")]
    private partial void LogInvoked(string function, int status, string log);

    [LoggerMessage(LogLevel.Error, "Function {Function} failed on message {MessageId} (attempt {DequeueCount})")]
    private partial void LogInvocationFailed(Exception exception, string function, string messageId, long dequeueCount);
}
