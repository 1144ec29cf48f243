using Microsoft.DurableTask;

namespace WinterOps.Functions;

/// <summary>How every orchestration calls its activities.</summary>
public static class ActivityRetry
{
    /// <summary>Storage may be unreachable for a while: about 6 minutes of attempts (1 s, doubling, at most 2 min apart) before the instance fails.</summary>
    public static readonly TaskOptions Options = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(2)));
}
