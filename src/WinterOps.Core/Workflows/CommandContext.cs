namespace WinterOps.Core.Workflows;

/// <summary>Who sent a command, when it was accepted, and its id (for idempotency inside a stream).</summary>
public sealed record CommandContext(string CommandId, Actor By, DateTimeOffset At);

/// <summary>A person (from their token) or a part of the system (timers, seeding) causing events.</summary>
public sealed record Actor(string Id, string Name, string Role, string? Org)
{
    public static Actor System(string name) => new($"system:{name}", name, "System", null);
}

/// <summary>The command is not valid in the workflow's current state (HTTP 409).</summary>
public sealed class CommandRejectedException(string message) : Exception(message)
{
    public string? State { get; init; }
}

/// <summary>The caller expected another version of the stream (HTTP 412).</summary>
public sealed class VersionMismatchException(string streamId, long expected, long actual)
    : Exception($"Stream {streamId} is at version {actual}, not {expected}.")
{
    public long Expected { get; } = expected;

    public long Actual { get; } = actual;
}

/// <summary>Writers kept colliding on one stream; the command was not applied (HTTP 409).</summary>
public sealed class ConcurrencyException(string streamId, int attempts)
    : Exception($"Stream {streamId} changed under {attempts} attempts; the command was not applied. Retry it.");
