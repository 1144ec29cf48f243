using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Demo;
using WinterOps.Functions.Hosting;
using WinterOps.Functions.Http;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Operations;
using WinterOps.Functions.Partners;
using WinterOps.Functions.Placements;

namespace WinterOps.Functions;

/// <summary>The WinterOps program: the HTTP API and the trigger functions, run by the Functions host or on its own.</summary>
public static class WinterOpsApp
{
    /// <summary>Largest request body accepted (413 above). Free-text limits inside bodies are smaller.</summary>
    public const long MaxRequestBodyBytes = 512 * 1024;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings files live next to the executable, wherever it is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddLocalSettings(builder, args);
        configure?.Invoke(builder);
        var services = builder.Services;

        // Under the Functions host, listen where it says; otherwise on the Functions default port.
        var hostPort = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"];
        if (hostPort is not null)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{hostPort}");
        }
        else if (builder.Configuration["urls"] is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:7071");
        }

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi();
        builder.AddWinterOpsAuth();
        AddTelemetry(builder);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StorageAccount>();
        services.TryAddSingleton<IEventStore>(sp => new TableEventStore(sp.GetRequiredService<StorageAccount>().Table(StorageNames.StreamsTable)));
        services.AddSingleton(_ => new WorkflowCatalog([PartnerWorkflow.Definition, CareHomeWorkflow.Definition, PlacementWorkflow.Definition, ReturnWorkflow.Definition, RoundWorkflow.Definition, EscalationWorkflow.Definition]));
        var placements = builder.Configuration.GetSection("Placements").Get<PlacementOptions>() ?? new PlacementOptions();
        placements.Validate();
        services.AddSingleton(placements);
        services.AddSingleton(OpelEndpoints.LoadFrameworks(builder.Configuration));
        services.AddSingleton(builder.Configuration.GetSection("Opel").Get<RoundOptions>() ?? new RoundOptions());
        services.AddSingleton(builder.Configuration.GetSection("Escalations").Get<EscalationOptions>() ?? new EscalationOptions());
        services.AddSingleton<RoundOpener>();
        services.AddSingleton<RoundReader>();
        services.AddSingleton<RoundTimers>();
        services.AddSingleton<IQueuedCommandHandler>(sp => sp.GetRequiredService<RoundTimers>());
        services.AddSingleton<WorkflowQueues>();
        services.AddSingleton<IOutboxSignal>(sp => sp.GetRequiredService<WorkflowQueues>());
        services.AddSingleton<CommandHandler>();
        services.AddSingleton<BookingSaga>();
        services.AddSingleton(sp => new InboxStore(sp.GetRequiredService<StorageAccount>().Table(StorageNames.InboxTable)));
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<InboxStore>());
        services.AddSingleton(sp => new OfferBoard(sp.GetRequiredService<StorageAccount>().Table(StorageNames.OffersTable)));
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<OfferBoard>());
        services.AddSingleton(builder.Configuration.GetSection("Notifications").Get<NotificationOptions>() ?? new NotificationOptions());
        services.AddSingleton<NotificationRouting>();
        AddExternalChannels(builder);
        services.AddSingleton<IPeopleDirectory, PeopleDirectory>();
        services.AddSingleton<Deliveries>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddSingleton<OutboxSweeper>();
        services.AddSingleton<QueuedCommandRunner>();
        services.AddSingleton<PoisonQueues>();
        services.AddSingleton<StorageProvisioner>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageProvisioner>());
        if (builder.Configuration.GetValue("LocalTriggers:Enabled", hostPort is null))
        {
            services.AddHostedService<LocalTriggerRunner>();
        }

        if (builder.Configuration.GetValue("Demo:Seed", false))
        {
            services.AddHostedService<DemoSeeder>();
        }

        var app = builder.Build();
        _ = app.Services.GetServices<IExternalChannel>().ToList(); // wrong channel settings fail now, not at the first notification
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<IdempotencyMiddleware>();

        app.MapGet("/", () => TypedResults.Text("WinterOps")).WithMetadata(new NotAnHttpFunction()).ExcludeFromDescription();
        app.MapOpenApi().WithName("OpenApiDocument");
        app.MapScalarApiReference("/docs", o => o.WithTitle("WinterOps API"));
        app.MapOperationsEndpoints(app.Environment);
        app.MapPartnerEndpoints();
        app.MapCareHomeEndpoints();
        app.MapPlacementEndpoints();
        app.MapOpelEndpoints();
        app.MapReturnEndpoints();
        app.MapRoundEndpoints();
        app.MapEscalationEndpoints();

        // The host's invocations of queue and timer functions: only the Functions host sends them (on
        // loopback, never proxied from outside). Without the host, LocalTriggerRunner calls the same
        // handlers in process, so the routes exist only when a test asks for them: no local caller can
        // run a workflow command through the API's port.
        if (hostPort is not null || builder.Configuration.GetValue<bool>("LocalTriggers:Routes"))
        {
            app.MapTriggerFunctions();
        }

        return app;
    }

    /// <summary>
    /// Like Functions Core Tools: the "Values" of ./local.settings.json (git-ignored) become settings,
    /// with environment variables and the command line still taking precedence.
    /// </summary>
    private static void AddLocalSettings(WebApplicationBuilder builder, string[] args)
    {
        var path = Path.Combine(Directory.GetCurrentDirectory(), "local.settings.json");
        if (!File.Exists(path) || builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] is not null)
        {
            return;
        }

        var values = JsonNode.Parse(File.ReadAllText(path))?["Values"]?.AsObject() ?? [];
        builder.Configuration.AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value?.ToString())));
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    /// <summary>
    /// Service Bus, Teams (Graph) and the Teams Workflows webhook, as <see cref="IExternalChannel"/> singletons;
    /// each is off (Enabled false) unless configured, and wrong settings fail here, at start-up.
    /// </summary>
    private static void AddExternalChannels(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(builder.Configuration.GetSection(ServiceBusOptions.Section).Get<ServiceBusOptions>() ?? new ServiceBusOptions());
        services.AddSingleton(builder.Configuration.GetSection(TeamsOptions.Section).Get<TeamsOptions>() ?? new TeamsOptions());
        foreach (var name in new[] { ServiceBusChannel.HttpClientName, WebhookChannel.HttpClientName })
        {
            // The channels are singletons holding their client: pooled connections are renewed to follow DNS changes.
            services.AddHttpClient(name, c => c.Timeout = ChannelHttp.RequestTimeout)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        }

        services.AddSingleton(sp => new ServiceBusChannel(
            sp.GetRequiredService<ServiceBusOptions>(), sp.GetRequiredService<IHttpClientFactory>().CreateClient(ServiceBusChannel.HttpClientName),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ServiceBusChannel>>()));
        // TryAdd: a test registers the channel first with a fake Graph's token provider in place of Entra.
        services.TryAddSingleton(sp => new TeamsChannel(sp.GetRequiredService<TeamsOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TeamsChannel>>()));
        services.AddSingleton(sp => new WebhookChannel(
            sp.GetRequiredService<TeamsOptions>(), sp.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookChannel.HttpClientName),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<WebhookChannel>>()));
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<ServiceBusChannel>());
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<TeamsChannel>());
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<WebhookChannel>());
    }

    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddSource("Azure.*"))
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
        {
            var credential = TelemetryCredential(builder.Configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
            telemetry.UseAzureMonitorExporter(o =>
            {
                o.ConnectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
                o.Credential = credential;
            });
        }
    }

    /// <summary>
    /// The Entra credential telemetry is sent with, from <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
    /// (<c>Authorization=AAD</c>, with <c>ClientId=</c> for a user-assigned identity). Application Insights with
    /// local auth off (as Bicep makes it) drops telemetry sent without one. Null: the connection string's key alone.
    /// </summary>
    public static TokenCredential? TelemetryCredential(string? authenticationString)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in (authenticationString ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Where(p => p.Length == 2))
        {
            parts[pair[0].Trim()] = pair[1].Trim(); // the last of a repeated key wins
        }

        if (!parts.TryGetValue("Authorization", out var authorization) || !authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}

/// <summary>Creates the tables and queues at start-up (idempotent); retries while storage is not yet up.</summary>
public sealed partial class StorageProvisioner(StorageAccount storage, ILogger<StorageProvisioner> logger) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every table and queue exists.</summary>
    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.WhenAll(
                    StorageNames.Tables.Select(t => storage.Table(t).CreateIfNotExistsAsync(stoppingToken))
                        .Concat<Task>(StorageNames.Queues.Select(q => storage.Queue(q).CreateIfNotExistsAsync(cancellationToken: stoppingToken))));
                _ready.TrySetResult();
                return;
            }
            catch (Exception e) when (StorageFailure.IsUnavailable(e))
            {
                LogWaiting(attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), stoppingToken);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Storage is not reachable yet (attempt {Attempt}); retrying")]
    private partial void LogWaiting(int attempt);
}
