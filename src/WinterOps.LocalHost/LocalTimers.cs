using Cronos;
using Microsoft.Azure.Functions.Worker;
using WinterOps.Functions;

namespace WinterOps.LocalHost;

/// <summary>
/// Fires the timer functions on their NCRONTAB schedules (UTC), one invocation at a time per function, as the
/// Functions host does. A function is switched off with the host's own setting, <c>AzureWebJobs__{Name}__Disabled=true</c>.
/// </summary>
public sealed partial class LocalTimers(IServiceProvider services, IConfiguration configuration, StorageProvisioner provisioner, TimeProvider time, ILogger<LocalTimers> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.Ready.WaitAsync(stoppingToken);
        await Task.WhenAll(LocalHostApp.Functions
            .Where(f => f.Trigger is LocalTrigger.Timer && !configuration.GetValue<bool>($"AzureWebJobs:{f.Name}:Disabled"))
            .Select(f => RunAsync(f, ((LocalTrigger.Timer)f.Trigger).Schedule, stoppingToken)));
    }

    private async Task RunAsync(LocalFunction function, string schedule, CancellationToken stoppingToken)
    {
        var cron = CronExpression.Parse(schedule, CronFormat.IncludeSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = cron.GetNextOccurrence(now, TimeZoneInfo.Utc) ?? now.AddDays(1);
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
                var timer = new TimerInfo { ScheduleStatus = new ScheduleStatus { Last = now.UtcDateTime, Next = next.UtcDateTime } };
                await function.InvokeAsync(function.Instance(services), LocalFunctions.Arguments(function, timer, services, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Like the host: a failed run is logged and the next one runs on schedule.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogFailed(e, function.Name);
            }
        }
    }

    [LoggerMessage(LogLevel.Error, "Timer function {Function} failed")]
    private partial void LogFailed(Exception exception, string function);
}
