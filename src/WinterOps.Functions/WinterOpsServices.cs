using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WinterOps.Azure.Notifications;
using WinterOps.Azure.Storage;
using WinterOps.Core.CareHomes;
using WinterOps.Core.Opel;
using WinterOps.Core.Partners;
using WinterOps.Core.Placements;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Auth;
using WinterOps.Functions.CareHomes;
using WinterOps.Functions.Demo;
using WinterOps.Functions.Http;
using WinterOps.Functions.Notifications;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Partners;
using WinterOps.Functions.Placements;

namespace WinterOps.Functions;

/// <summary>The app's services, registered the same way by the Functions worker (Program.cs) and by the local host.</summary>
public static class WinterOpsServices
{
    public static IServiceCollection AddWinterOps(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddSingleton<ProblemExceptionHandler>();
        services.AddSingleton<Idempotency>();
        services.AddWinterOpsAuth(configuration, environment);
        AddTelemetry(services, configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StorageAccount>();
        var placements = configuration.GetSection("Placements").Get<PlacementOptions>() ?? new PlacementOptions();
        placements.Validate();
        services.AddSingleton(placements);
        services.AddSingleton(OpelEndpoints.LoadFrameworks(configuration));
        services.AddSingleton(configuration.GetSection("Opel").Get<RoundOptions>() ?? new RoundOptions());
        services.AddSingleton(configuration.GetSection("Escalations").Get<EscalationOptions>() ?? new EscalationOptions());
        services.AddSingleton<RoundOpener>();
        services.AddSingleton<RoundReader>();
        services.AddSingleton<RoundStore>();
        services.AddSingleton<EscalationStore>();
        services.AddSingleton<Escalations>();
        services.AddSingleton<CareHomeStore>();
        services.AddSingleton<PartnerStore>();
        services.TryAddSingleton(sp => new ReturnStore(sp.GetRequiredService<StorageAccount>().Table(StorageNames.ReturnsTable)));
        services.AddSingleton<PlacementStore>();
        services.AddSingleton(sp => new InboxStore(sp.GetRequiredService<StorageAccount>().Table(StorageNames.InboxTable)));
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<InboxStore>());
        services.AddSingleton(sp => new OfferBoard(sp.GetRequiredService<StorageAccount>().Table(StorageNames.OffersTable)));
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<OfferBoard>());
        services.AddSingleton(configuration.GetSection("Notifications").Get<NotificationOptions>() ?? new NotificationOptions());
        services.AddSingleton<NotificationRouting>();
        AddExternalChannels(services, configuration);
        services.AddSingleton<IPeopleDirectory, PeopleDirectory>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<Notifier>();
        services.AddSingleton(configuration.GetSection("Operations").Get<Operations.OperationsOptions>() ?? new Operations.OperationsOptions());
        services.AddSingleton<StorageProvisioner>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageProvisioner>());
        if (configuration.GetValue("Demo:Seed", false))
        {
            services.AddHostedService<DemoSeeder>();
        }

        return services;
    }

    /// <summary>Resolves what start-up must check, so wrong settings stop the app at once rather than at the first notification.</summary>
    public static void ValidateOnStart(IServiceProvider services) => _ = services.GetServices<IExternalChannel>().ToList();

    /// <summary>
    /// How Durable payloads (orchestration inputs, outputs, events, custom status) are written, by both hosts: the
    /// worker's <c>WorkerOptions.Serializer</c> in Azure, the Durable Task data converter in the local host. They are
    /// history, a contract with running instances, so unknown members are tolerated (a field may be added).
    /// </summary>
    public static JsonSerializerOptions DurableJson { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

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
    private static void AddExternalChannels(IServiceCollection services, IConfiguration configuration)
    {
        var serviceBus = configuration.GetSection(ServiceBusOptions.Section).Get<ServiceBusOptions>() ?? new ServiceBusOptions();
        services.AddSingleton(serviceBus);
        services.AddSingleton(configuration.GetSection(TeamsOptions.Section).Get<TeamsOptions>() ?? new TeamsOptions());

        // The webhook channel is a singleton holding its client: pooled connections are renewed to follow DNS changes.
        services.AddHttpClient(WebhookChannel.HttpClientName, c => c.Timeout = ChannelHttp.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        // One ServiceBusClient for the app: a connection string locally and in tests, the namespace and the managed identity in Azure.
        if (serviceBus.Enabled)
        {
            if (!string.IsNullOrWhiteSpace(serviceBus.ConnectionString))
            {
                const string Expected = "it needs Endpoint=sb://<namespace> and SharedAccessKeyName with SharedAccessKey (or SharedAccessSignature)";
                try
                {
                    var parsed = ServiceBusConnectionStringProperties.Parse(serviceBus.ConnectionString);
                    if (parsed.Endpoint is null || (string.IsNullOrEmpty(parsed.SharedAccessSignature)
                                                    && (string.IsNullOrEmpty(parsed.SharedAccessKeyName) || string.IsNullOrEmpty(parsed.SharedAccessKey))))
                    {
                        throw new FormatException(Expected + ".");
                    }
                }
                catch (Exception e) when (e is FormatException or ArgumentException)
                {
                    throw new InvalidOperationException($"{ServiceBusOptions.Section}:ConnectionString is not a Service Bus connection string: {Expected}.", e);
                }
            }

            services.AddAzureClients(clients =>
            {
                var client = string.IsNullOrWhiteSpace(serviceBus.ConnectionString)
                    ? clients.AddServiceBusClientWithNamespace(serviceBus.FullyQualifiedNamespace)
                    : clients.AddServiceBusClient(serviceBus.ConnectionString);
                client.ConfigureOptions(ServiceBusChannel.ClientOptions);
                clients.UseCredential(configuration[$"{StorageAccount.ConnectionName}:clientId"] is { Length: > 0 } clientId
                    ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                    : new DefaultAzureCredential());
            });
        }

        services.AddSingleton(sp => new ServiceBusChannel(
            serviceBus.Enabled ? sp.GetRequiredService<ServiceBusClient>().CreateSender(serviceBus.TopicName) : null, sp.GetRequiredService<ILogger<ServiceBusChannel>>()));
        // TryAdd: a test registers the channel first with a fake Graph's token provider in place of Entra.
        services.TryAddSingleton(sp => new TeamsChannel(sp.GetRequiredService<TeamsOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TeamsChannel>>()));
        services.AddSingleton(sp => new WebhookChannel(
            sp.GetRequiredService<TeamsOptions>(), sp.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookChannel.HttpClientName),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<WebhookChannel>>()));
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<ServiceBusChannel>());
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<TeamsChannel>());
        services.AddSingleton<IExternalChannel>(sp => sp.GetRequiredService<WebhookChannel>());
    }

    private static void AddTelemetry(IServiceCollection services, IConfiguration configuration)
    {
        var telemetry = services.AddOpenTelemetry()
            .WithTracing(t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddSource("Azure.*"))
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
        {
            var credential = TelemetryCredential(configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
            telemetry.UseAzureMonitorExporter(o =>
            {
                o.ConnectionString = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
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

/// <summary>Creates the tables at start-up (idempotent); retries while storage is not yet up.</summary>
public sealed partial class StorageProvisioner(StorageAccount storage, ILogger<StorageProvisioner> logger) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every table exists.</summary>
    public Task Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.WhenAll(StorageNames.Tables.Select(t => storage.Table(t).CreateIfNotExistsAsync(stoppingToken)));
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
