using System.Text.Json.Nodes;
using WinterOps.Functions;
using WinterOps.LocalHost.Durable;

namespace WinterOps.LocalHost;

/// <summary>
/// Runs the Function App's functions as the Functions host would, without it: the same function classes
/// and the same services (<see cref="WinterOpsServices.AddWinterOps"/>), with HTTP functions served by
/// Kestrel at their declared routes, timer functions on their schedules, and orchestrations and activities
/// on a Durable Task worker over Durable's Azure Storage provider.
/// </summary>
public static class LocalHostApp
{
    public static IReadOnlyList<LocalFunction> Functions { get; } = LocalFunctions.Find(typeof(WinterOpsServices).Assembly);

    /// <summary>The name of the task hub the app's Durable worker runs on (its History, Instances and Partitions tables start with it).</summary>
    public static string TaskHubName(IServiceProvider services) => services.GetRequiredService<LocalDurableOptions>().Storage.TaskHubName;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings files live next to the executable, wherever it is started from; the environment is the
        // Functions host's (AZURE_FUNCTIONS_ENVIRONMENT) when set, as FunctionsApplication.CreateBuilder reads it.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environment.GetEnvironmentVariable("AZURE_FUNCTIONS_ENVIRONMENT"),
        });
        AddLocalSettings(builder, args);
        if (builder.Configuration["urls"] is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:7071"); // the Functions default port
        }

        configure?.Invoke(builder);
        AddDurable(builder); // first: hosted services stop in reverse, so timers and queues stop before the Durable sidecar
        builder.Services.AddWinterOps(builder.Configuration, builder.Environment);
        builder.Services.AddHostedService<LocalTimers>();

        var app = builder.Build();
        WinterOpsServices.ValidateOnStart(app.Services);
        app.UseStatusCodePages(); // problem+json for unknown routes and methods
        foreach (var function in Functions)
        {
            if (function.Trigger is LocalTrigger.Http http)
            {
                // AuthorizationLevel is enforced by the Azure host alone; WinterOps authorises with bearer tokens (Api).
                app.MapMethods("/" + http.Route, http.Methods.Select(m => m.ToUpperInvariant()).ToArray(), context => InvokeHttpAsync(function, context))
                    .WithName(function.Name);
            }
        }

        return app;
    }

    /// <summary>
    /// Durable as host.json configures it. The hub name takes StorageNamePrefix and the partition count in front:
    /// tests share one Azurite, and a task hub keeps its partition count for life, so a change starts a new hub.
    /// </summary>
    private static void AddDurable(WebApplicationBuilder builder)
    {
        builder.Configuration["DurableTaskHubName"] ??= "WinterOps";
        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")));
        var settings = DurableSettings.FromHostJson(hostJson, builder.Configuration);
        settings = settings with { HubName = $"{builder.Configuration["StorageNamePrefix"]}p{settings.PartitionCount}{settings.HubName}" };
        var connection = builder.Configuration[settings.ConnectionName] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Set {settings.ConnectionName}: the Durable task hub's storage (locally, Azurite's connection string).");
        builder.Services.AddLocalDurable(builder.Configuration, settings, connection, WinterOpsServices.DurableJson, Functions);
    }

    private static async Task InvokeHttpAsync(LocalFunction function, HttpContext context)
    {
        var arguments = LocalFunctions.Arguments(function, context.Request, context.RequestServices, context.RequestAborted);
        var result = await function.InvokeAsync(function.Instance(context.RequestServices), arguments);
        if (result is IResult written)
        {
            await written.ExecuteAsync(context);
        }
    }

    /// <summary>
    /// Like Functions Core Tools: the "Values" of ./local.settings.json (git-ignored) become settings,
    /// with environment variables and the command line still taking precedence.
    /// </summary>
    private static void AddLocalSettings(WebApplicationBuilder builder, string[] args)
    {
        var path = Path.Combine(Directory.GetCurrentDirectory(), "local.settings.json");
        if (!File.Exists(path))
        {
            return;
        }

        var values = JsonNode.Parse(File.ReadAllText(path))?["Values"]?.AsObject() ?? [];
        builder.Configuration.AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value?.ToString())));
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
    }
}
