using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WinterOps.LocalHost.Durable;

/// <summary>
/// The orchestrator and activity functions of some assemblies, found from the same <c>[Function]</c> +
/// <c>[OrchestrationTrigger]</c>/<c>[ActivityTrigger]</c> attributes the Functions host reads, and registered on a
/// <see cref="DurableTaskRegistry"/> so the standalone Durable Task worker runs the same methods.
/// Construction refuses (throws) any signature the Functions host would bind differently.
/// </summary>
public sealed class DurableFunctionCatalog
{
    readonly Dictionary<string, DurableFunction> _orchestrators = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, DurableFunction> _activities = new(StringComparer.OrdinalIgnoreCase);

    readonly System.Text.Json.JsonSerializerOptions _json;

    public DurableFunctionCatalog(IEnumerable<Assembly> assemblies, System.Text.Json.JsonSerializerOptions json)
    {
        ArgumentNullException.ThrowIfNull(assemblies);
        _json = json;
        foreach (MethodInfo method in assemblies.Distinct().SelectMany(GetTypes).SelectMany(t =>
                     t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)))
        {
            if (method.GetCustomAttribute<FunctionAttribute>() is { } function
                && DurableFunction.TryCreate(function.Name, method) is { } durable)
            {
                var target = durable.IsOrchestrator ? _orchestrators : _activities;
                if (!target.TryAdd(durable.Name, durable))
                {
                    throw new InvalidOperationException(
                        $"Durable function '{durable.Name}' is declared twice: {Describe(target[durable.Name].Method)} and {Describe(method)}.");
                }
            }
        }
    }

    public IReadOnlyCollection<string> OrchestratorNames => _orchestrators.Keys;

    public IReadOnlyCollection<string> ActivityNames => _activities.Keys;

    /// <summary>Adds every orchestrator and activity to <paramref name="registry"/>.</summary>
    public void Register(DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (DurableFunction f in _orchestrators.Values)
        {
            // Orchestrators do no I/O, so they take no services: the worker makes one shim per execution.
            registry.AddOrchestrator(f.Name, () => new FunctionOrchestrator(f, _json));
        }

        foreach (DurableFunction f in _activities.Values)
        {
            registry.AddActivity(f.Name, services => new FunctionActivity(f, services));
        }
    }


    internal static string Describe(MethodInfo m) => $"{m.DeclaringType?.FullName}.{m.Name}";

    static IEnumerable<Type> GetTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}

/// <summary>One orchestrator or activity method and how to bind its parameters.</summary>
internal sealed class DurableFunction
{
    enum Arg { Context, Input, CancellationToken, DurableClient }

    readonly Arg[] _args;
    readonly PropertyInfo? _taskResult;

    DurableFunction(string name, MethodInfo method, bool isOrchestrator, Arg[] args, Type inputType)
    {
        Name = name;
        Method = method;
        IsOrchestrator = isOrchestrator;
        _args = args;
        InputType = inputType;
        Type ret = method.ReturnType;
        bool isTaskOfT = ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(Task<>);
        _taskResult = isTaskOfT ? ret.GetProperty(nameof(Task<int>.Result)) : null;
        OutputType = isTaskOfT ? ret.GetGenericArguments()[0] : ret == typeof(void) || ret == typeof(Task) ? typeof(object) : ret;
    }

    public string Name { get; }

    public MethodInfo Method { get; }

    public bool IsOrchestrator { get; }

    public Type InputType { get; }

    public Type OutputType { get; }

    /// <summary>A durable function for <paramref name="method"/>, null if it has no Durable trigger; throws on a bad signature.</summary>
    public static DurableFunction? TryCreate(string name, MethodInfo method)
    {
        ParameterInfo[] ps = method.GetParameters();
        bool isOrchestrator = ps.Any(p => p.IsDefined(typeof(OrchestrationTriggerAttribute)));
        bool isActivity = ps.Any(p => p.IsDefined(typeof(ActivityTriggerAttribute)));
        if (!isOrchestrator && !isActivity)
        {
            return null;
        }

        string where = $"Durable function '{name}' ({DurableFunctionCatalog.Describe(method)})";
        if (isOrchestrator && isActivity)
        {
            throw new InvalidOperationException($"{where} has both an orchestration and an activity trigger.");
        }

        Type ret = method.ReturnType;
        if (ret == typeof(ValueTask) || (ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(ValueTask<>))
            || (ret == typeof(void) && method.IsDefined(typeof(AsyncStateMachineAttribute))))
        {
            throw new InvalidOperationException($"{where} returns {ret.Name}{(ret == typeof(void) ? " (async void)" : "")}: return Task, Task<T>, T or void.");
        }

        var args = new Arg[ps.Length];
        Type inputType = typeof(object);
        for (int i = 0; i < ps.Length; i++)
        {
            ParameterInfo p = ps[i];
            if (p.IsDefined(typeof(OrchestrationTriggerAttribute)) && p.ParameterType == typeof(TaskOrchestrationContext))
            {
                args[i] = Arg.Context;
            }
            else if (p.IsDefined(typeof(ActivityTriggerAttribute)))
            {
                args[i] = Arg.Input;
                inputType = p.ParameterType;
            }
            else if (p.ParameterType == typeof(CancellationToken))
            {
                args[i] = Arg.CancellationToken;
            }
            else if (isActivity && p.ParameterType == typeof(DurableTaskClient) && p.IsDefined(typeof(DurableClientAttribute)))
            {
                // An activity may start or signal other orchestrations through the binding, as in Azure.
                args[i] = Arg.DurableClient;
            }
            else
            {
                throw new InvalidOperationException(
                    $"{where} has parameter '{p.Name}' of type {p.ParameterType.Name}, which the local host does not bind. "
                    + "Allowed: [OrchestrationTrigger] TaskOrchestrationContext, the [ActivityTrigger] input, CancellationToken"
                    + (isActivity ? ", [DurableClient] DurableTaskClient" : "") + ". Get anything else from DI.");
            }
        }

        return new DurableFunction(name, method, isOrchestrator, args, inputType);
    }

    /// <summary>Calls the method (a new instance per call for instance methods, as the Functions worker does) and awaits its result.</summary>
    public async Task<object?> InvokeAsync(IServiceProvider services, object? contextOrInput, CancellationToken cancellationToken)
    {
        object?[] values = new object?[_args.Length];
        for (int i = 0; i < _args.Length; i++)
        {
            values[i] = _args[i] switch
            {
                Arg.Context or Arg.Input => contextOrInput,
                Arg.CancellationToken => cancellationToken,
                _ => services.GetRequiredService<DurableTaskClient>(),
            };
        }

        object? instance = Method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, Method.DeclaringType!);
        try
        {
            // DoNotWrapExceptions: the function's own exception (and stack) reaches the worker, which records it
            // as the failure details, not a TargetInvocationException.
            object? result = Method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, values, null);
            if (result is Task task)
            {
                await task;
                return _taskResult?.GetValue(task);
            }

            return result;
        }
        finally
        {
            if (instance is IAsyncDisposable ad)
            {
                await ad.DisposeAsync();
            }
            else
            {
                (instance as IDisposable)?.Dispose();
            }
        }
    }
}

/// <summary>Runs an orchestrator function; created per execution by the worker (see <see cref="DurableFunctionCatalog.Register"/>).</summary>
internal sealed class FunctionOrchestrator(DurableFunction function, System.Text.Json.JsonSerializerOptions json) : ITaskOrchestrator
{
    // The function reads its own input with context.GetInput<T>(), as in Azure, so the worker need not convert it.
    public Type InputType => typeof(object);

    public Type OutputType => typeof(object);

    // An orchestrator has no invocation to cancel: CancellationToken parameters get None, as replay must not depend on it.
    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
        function.InvokeAsync(EmptyServices.Instance, new FunctionOrchestrationContext(context, input, json), CancellationToken.None);
}

/// <summary>What an orchestrator's class is created from: nothing (orchestrators must not depend on services).</summary>
internal sealed class EmptyServices : IServiceProvider
{
    public static EmptyServices Instance { get; } = new();

    public object? GetService(Type serviceType) => null;
}

/// <summary>Runs an activity function; the worker deserializes the input to the trigger parameter's type.</summary>
internal sealed class FunctionActivity(DurableFunction function, IServiceProvider services) : ITaskActivity
{
    public Type InputType => function.InputType;

    public Type OutputType => function.OutputType;

    // As in Azure, an activity's CancellationToken signals host shutdown.
    public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
        function.InvokeAsync(services, input, services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? default);
}
