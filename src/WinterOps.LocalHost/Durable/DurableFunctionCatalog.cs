using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WinterOps.LocalHost.Durable;

/// <summary>
/// Registers the orchestrator and activity functions (found and checked by <see cref="LocalFunctions"/>) on a
/// <see cref="DurableTaskRegistry"/>, so the standalone Durable Task worker runs the same methods as the Functions host.
/// </summary>
public sealed class DurableFunctionCatalog(IReadOnlyList<LocalFunction> functions, JsonSerializerOptions json)
{
    public IEnumerable<string> OrchestratorNames => functions.Where(f => f.Trigger is LocalTrigger.Orchestration).Select(f => f.Name);

    public IEnumerable<string> ActivityNames => functions.Where(f => f.Trigger is LocalTrigger.Activity).Select(f => f.Name);

    /// <summary>
    /// Adds every orchestrator and activity to <paramref name="registry"/>. Instance methods get a new instance per
    /// call, as in the Functions worker: activities from the worker's per-activity scope, orchestrators from
    /// <paramref name="services"/> (the registry's orchestrator factories are given no provider of their own).
    /// </summary>
    public void Register(DurableTaskRegistry registry, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var function in functions)
        {
            switch (function.Trigger)
            {
                case LocalTrigger.Orchestration:
                    registry.AddOrchestrator(function.Name, () => new FunctionOrchestrator(function, json, services));
                    break;
                case LocalTrigger.Activity activity:
                    registry.AddActivity(function.Name, scoped => new FunctionActivity(function, activity.InputType, scoped));
                    break;
            }
        }
    }
}

/// <summary>Runs an orchestrator function; one per execution.</summary>
internal sealed class FunctionOrchestrator(LocalFunction function, JsonSerializerOptions json, IServiceProvider services) : ITaskOrchestrator
{
    // The function reads its own input with context.GetInput<T>(), as in Azure, so the worker need not convert it.
    public Type InputType => typeof(object);

    public Type OutputType => typeof(object);

    // An orchestrator has no invocation to cancel: a CancellationToken parameter gets None, as replay must not depend on it.
    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
        function.InvokeAsync(
            function.Instance(services),
            LocalFunctions.Arguments(function, new FunctionOrchestrationContext(context, input, json), services, CancellationToken.None));
}

/// <summary>Runs an activity function; the worker converts the input to the trigger parameter's type.</summary>
internal sealed class FunctionActivity(LocalFunction function, Type inputType, IServiceProvider services) : ITaskActivity
{
    public Type InputType => inputType;

    public Type OutputType => typeof(object);

    // As in Azure, an activity's CancellationToken signals host shutdown.
    public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
        function.InvokeAsync(
            function.Instance(services),
            LocalFunctions.Arguments(function, input, services, services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? default));
}
