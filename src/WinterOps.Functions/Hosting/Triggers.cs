using System.Text.Json;
using System.Text.Json.Nodes;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Hosting;

/// <summary>How a non-HTTP function is triggered, as written in its function.json.</summary>
public abstract record TriggerBinding(string BindingName)
{
    public sealed record QueueMessages(string BindingName, string QueueName) : TriggerBinding(BindingName);

    /// <summary>An NCRONTAB schedule with seconds, in UTC.</summary>
    public sealed record Timer(string BindingName, string Schedule) : TriggerBinding(BindingName);
}

/// <summary>A timer or queue function: its name (the folder and the route <c>POST /{Name}</c>), binding and handler.</summary>
public sealed record TriggerFunction(string Name, TriggerBinding Binding, Func<IServiceProvider, JsonNode?, CancellationToken, Task> Run);

/// <summary>
/// The app's timer and queue functions. In Azure the Functions host calls them as
/// <c>POST /{Name}</c> with <c>{"Data":{...},"Metadata":{...}}</c>; locally <see cref="LocalTriggerRunner"/>
/// does the same, reading the same function.json files.
/// </summary>
public static class TriggerFunctions
{
    public static IReadOnlyList<TriggerFunction> All { get; } =
    [
        new("OutboxDispatch", new TriggerBinding.QueueMessages("message", StorageNames.DispatchQueue), async (services, data, ct) =>
            await services.GetRequiredService<OutboxDispatcher>().DispatchAsync(Read<DispatchRequest>(data).StreamId, ct)),
        new("WorkflowCommands", new TriggerBinding.QueueMessages("message", StorageNames.CommandsQueue), async (services, data, ct) =>
            await services.GetRequiredService<QueuedCommandRunner>().RunAsync(Read<QueuedCommand>(data), ct)),
        new("WorkflowTimers", new TriggerBinding.QueueMessages("message", StorageNames.TimersQueue), async (services, data, ct) =>
            await services.GetRequiredService<QueuedCommandRunner>().RunAsync(Read<QueuedCommand>(data), ct)),
        new("NotificationDelivery", new TriggerBinding.QueueMessages("message", StorageNames.DeliveriesQueue), async (services, data, ct) =>
            await services.GetRequiredService<Deliveries>().DeliverAsync(Read<DeliveryRequest>(data), ct)),
        new("OutboxSweeper", new TriggerBinding.Timer("timer", "0 */1 * * * *"), async (services, _, ct) =>
            await services.GetRequiredService<OutboxSweeper>().SweepAsync(ct)),
        new("DailyTick", new TriggerBinding.Timer("timer", "0 */5 * * * *"), async (services, _, ct) =>
            await services.GetRequiredService<Opel.RoundOpener>().TickAsync(ct)),
        new("PoisonWatch", new TriggerBinding.Timer("timer", "0 */15 * * * *"), async (services, _, ct) =>
            await services.GetRequiredService<PoisonQueues>().WatchAsync(ct)),
    ];

    /// <summary>
    /// Serves <c>POST /{Name}</c> for every trigger function and answers in the host's shape
    /// <c>{"Outputs":{},"Logs":[...],"ReturnValue":null}</c>; a non-2xx answer fails the invocation.
    /// </summary>
    public static void MapTriggerFunctions(this IEndpointRouteBuilder app)
    {
        foreach (var function in All)
        {
            app.MapPost($"/{function.Name}", async (HttpContext context) =>
            {
                JsonNode? payload;
                try
                {
                    payload = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                }
                catch (JsonException e)
                {
                    return Answer(StatusCodes.Status400BadRequest, $"{function.Name}: the invocation body is not JSON: {e.Message}");
                }

                var (status, log) = await InvokeAsync(function, context.RequestServices, payload, context.RequestAborted);
                return Answer(status, log);
            })
            .WithMetadata(new NotAnHttpFunction())
            .ExcludeFromDescription();
        }
    }

    /// <summary>
    /// Runs a function on a host-shaped invocation <c>{"Data":{binding:input},"Metadata":{...}}</c>:
    /// 200 when done, 400 when the input can never be processed, an exception for anything else
    /// (a failed invocation the host retries).
    /// </summary>
    public static async Task<(int Status, string Log)> InvokeAsync(
        TriggerFunction function, IServiceProvider services, JsonNode? payload, CancellationToken cancellationToken)
    {
        try
        {
            await function.Run(services, payload?["Data"]?[function.Binding.BindingName], cancellationToken);
            return (StatusCodes.Status200OK, $"{function.Name} completed");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or UnknownTypeException or InvalidOperationException { Source: "System.Text.Json" })
        {
            return (StatusCodes.Status400BadRequest, $"{function.Name}: the trigger input is not valid: {e.Message}");
        }
    }

    /// <summary>
    /// Reads a trigger input. The host passes a queue message's text as a JSON string (so JSON arrives
    /// encoded twice); an object is read as it is.
    /// </summary>
    public static T Read<T>(JsonNode? data)
    {
        var node = data?.GetValueKind() == JsonValueKind.String ? JsonNode.Parse(data.GetValue<string>()) : data;
        return node.Deserialize<T>(WorkflowJson.Options) ?? throw new JsonException($"The trigger input is empty; expected a {typeof(T).Name}.");
    }

    private static IResult Answer(int status, string log) =>
        Results.Json(new JsonObject { ["Outputs"] = new JsonObject(), ["Logs"] = new JsonArray(log), ["ReturnValue"] = null }, statusCode: status);
}

/// <summary>Marks an endpoint that is not an HTTP function of its own (the host's probe, trigger invocations).</summary>
public sealed class NotAnHttpFunction;
