using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace WinterOps.LocalHost;

/// <summary>How a function is triggered, read from its own declaration (the same attributes functions.metadata is generated from).</summary>
public abstract record LocalTrigger
{
    public sealed record Http(string Route, IReadOnlyList<string> Methods, AuthorizationLevel AuthLevel) : LocalTrigger;

    /// <summary>An NCRONTAB schedule with seconds, in UTC.</summary>
    public sealed record Timer(string Schedule) : LocalTrigger;

    public sealed record Orchestration : LocalTrigger;

    public sealed record Activity(Type InputType) : LocalTrigger;
}

/// <summary>A <c>[Function]</c> method of the Function App and its trigger.</summary>
public sealed record LocalFunction(string Name, MethodInfo Method, LocalTrigger Trigger)
{
    /// <summary>Creates the function's class for one invocation, from DI, as the worker does; null for a static method.</summary>
    public object? Instance(IServiceProvider services) =>
        Method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, Method.DeclaringType!);

    /// <summary>Invokes the function and awaits it; returns what it returned (null for Task or void).</summary>
    public async Task<object?> InvokeAsync(object? instance, object?[] arguments)
    {
        // The function's own exception (and stack) reaches the caller, not a TargetInvocationException.
        var result = Method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, arguments, null);
        if (result is not Task task)
        {
            return result;
        }

        await task;
        var type = task.GetType();
        return type.IsGenericType && type.GetProperty("Result") is { } property && property.PropertyType.Name != "VoidTaskResult"
            ? property.GetValue(task)
            : null;
    }
}

/// <summary>
/// The functions of an assembly, found by reflection on their <c>[Function]</c> and trigger attributes. Only a
/// closed set of parameter types is bound (anything else stops the start with the function's name): the trigger
/// (<see cref="HttpRequest"/>, <see cref="TimerInfo"/>, <see cref="TaskOrchestrationContext"/>, an activity's input),
/// <c>[DurableClient] DurableTaskClient</c> and <see cref="CancellationToken"/>.
/// </summary>
public static class LocalFunctions
{
    public static IReadOnlyList<LocalFunction> Find(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .Select(Describe)
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();

    private static LocalFunction Describe(MethodInfo method)
    {
        var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
        LocalTrigger? trigger = null;
        foreach (var parameter in method.GetParameters())
        {
            var found = TriggerOf(parameter);
            if (found is not null)
            {
                trigger = trigger is null ? found : throw Refuse(name, "has two triggers");
            }
            else if (!IsBindable(parameter))
            {
                throw Refuse(name, $"has parameter '{parameter.Name}' of type {parameter.ParameterType.Name}, which the local host does not bind");
            }
        }

        var returns = method.ReturnType;
        if (returns == typeof(ValueTask) || (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(ValueTask<>))
            || (returns == typeof(void) && method.IsDefined(typeof(System.Runtime.CompilerServices.AsyncStateMachineAttribute))))
        {
            throw Refuse(name, $"returns {returns.Name}{(returns == typeof(void) ? " (async void)" : "")}; return Task, Task<T>, T or void");
        }

        return new LocalFunction(name, method, trigger ?? throw Refuse(name, "has no trigger the local host runs (HTTP, timer, orchestration, activity)"));
    }

    private static LocalTrigger? TriggerOf(ParameterInfo parameter)
    {
        if (parameter.GetCustomAttribute<HttpTriggerAttribute>() is { } http)
        {
            return parameter.ParameterType == typeof(HttpRequest)
                ? new LocalTrigger.Http(http.Route ?? FunctionName(parameter), http.Methods ?? ["get", "post"], http.AuthLevel)
                : throw Refuse(parameter, "binds its HTTP trigger to something other than HttpRequest");
        }

        if (parameter.GetCustomAttribute<TimerTriggerAttribute>() is { } timer)
        {
            return parameter.ParameterType == typeof(TimerInfo)
                ? new LocalTrigger.Timer(timer.Schedule)
                : throw Refuse(parameter, "binds its timer trigger to something other than TimerInfo");
        }

        if (parameter.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null)
        {
            return parameter.ParameterType == typeof(TaskOrchestrationContext)
                ? new LocalTrigger.Orchestration()
                : throw Refuse(parameter, "binds its orchestration trigger to something other than TaskOrchestrationContext");
        }

        return parameter.GetCustomAttribute<ActivityTriggerAttribute>() is not null ? new LocalTrigger.Activity(parameter.ParameterType) : null;
    }

    /// <summary>Where the worker serves an HTTP function that declares no route: at its name.</summary>
    private static string FunctionName(ParameterInfo parameter) => parameter.Member.GetCustomAttribute<FunctionAttribute>()!.Name;

    private static bool IsBindable(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(CancellationToken)
        || (parameter.ParameterType == typeof(DurableTaskClient) && parameter.GetCustomAttribute<DurableClientAttribute>() is not null);

    /// <summary>The arguments of one invocation: the trigger's value in its place, then the client and the cancellation token.</summary>
    public static object?[] Arguments(LocalFunction function, object? trigger, IServiceProvider services, CancellationToken cancellationToken) =>
        function.Method.GetParameters().Select(p =>
            p.ParameterType == typeof(CancellationToken) ? cancellationToken
            : p.ParameterType == typeof(DurableTaskClient) && p.GetCustomAttribute<DurableClientAttribute>() is not null
                ? services.GetRequiredService<IDurableTaskClientProvider>().GetClient() // not a DI service, as in Azure: only the binding gives it
            : trigger).ToArray();

    private static InvalidOperationException Refuse(string function, string why) =>
        new($"Function {function} {why}. The local host binds HttpRequest, TimerInfo, TaskOrchestrationContext, an activity input, [DurableClient] DurableTaskClient and CancellationToken only.");

    private static InvalidOperationException Refuse(ParameterInfo parameter, string why) =>
        Refuse(parameter.Member.GetCustomAttribute<FunctionAttribute>()?.Name ?? parameter.Member.Name, why);
}
