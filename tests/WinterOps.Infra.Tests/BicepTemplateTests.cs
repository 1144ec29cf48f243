using System.Text.Json.Nodes;
using WinterOps.Azure.Storage;

namespace WinterOps.Infra.Tests;

/// <summary>
/// Every Bicep file built and linted once (the CLI takes seconds to start, so one run per verb with a
/// glob): main.bicep as ARM JSON, the dev and prod parameter files, and what each verb printed.
/// </summary>
public sealed class CompiledTemplates : IAsyncLifetime
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("winterops-bicep-").FullName;

    public ArmTemplate Main { get; private set; } = null!;

    public Dictionary<string, JsonObject> Parameters { get; } = [];

    /// <summary>Verb -> (exit code, everything printed).</summary>
    public Dictionary<string, (int ExitCode, string Printed)> Runs { get; } = [];

    public async Task InitializeAsync()
    {
        foreach (var (verb, pattern) in new[] { ("build", "**/*.bicep"), ("build-params", "**/*.bicepparam"), ("lint", "**/*.bicep*") })
        {
            var arguments = verb == "lint" ? new[] { verb, "--pattern", pattern } : [verb, "--pattern", pattern, "--outdir", Folder];
            var (exitCode, output, error) = await Repo.RunInAsync(Repo.Infra, Repo.Bicep, arguments);
            Runs[verb] = (exitCode, output + error);
        }

        Main = new ArmTemplate(await File.ReadAllTextAsync(Path.Combine(Folder, "main.json")));
        foreach (var environment in new[] { "dev", "prod" })
        {
            Parameters[environment] = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Folder, $"{environment}.json")))!["parameters"]!.AsObject();
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}

public class BicepTemplateTests(CompiledTemplates compiled) : IClassFixture<CompiledTemplates>
{
    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string ServiceBusDataSender = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";
    private const string ServiceBusDataReceiver = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    private ArmTemplate Main => compiled.Main;

    [Theory]
    [InlineData("build")]
    [InlineData("build-params")]
    [InlineData("lint")]
    public void EveryBicepFile_BuildsAndLints_WithoutAWarning(string verb)
    {
        var (exitCode, printed) = compiled.Runs[verb];
        exitCode.ShouldBe(0, printed);
        printed.ShouldBeEmpty();
    }

    [Fact]
    public void EveryBicepFile_IsCompiled()
    {
        var sources = Directory.GetFiles(Repo.Infra, "*.bicep*", SearchOption.AllDirectories)
            .Select(f => Path.ChangeExtension(Path.GetRelativePath(Repo.Infra, f), ".json"));
        var outputs = Directory.GetFiles(compiled.Folder, "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(compiled.Folder, f));

        outputs.ShouldBe(sources, ignoreOrder: true);
    }

    [Fact]
    public async Task BicepCli_IsThePinnedVersion()
    {
        var version = await Repo.RunAsync(Repo.Bicep, "--version");
        version.Output.ShouldContain("0.49.2");
    }

    [Fact]
    public void Template_HoldsNoKeys()
    {
        foreach (var forbidden in new[] { "listKeys", "listConnectionStrings", "AccountKey=", "SharedAccessKey", "SharedAccessSignature", "UseDevelopmentStorage" })
        {
            Main.Json.ShouldNotContain(forbidden, Case.Insensitive);
        }

        Main.OfType("Microsoft.ServiceBus/namespaces/AuthorizationRules").ShouldBeEmpty();
        Main.OfType("Microsoft.ServiceBus/namespaces/topics/authorizationRules").ShouldBeEmpty();
    }

    [Fact]
    public void Storage_AllowsNoSharedKeyNoPublicBlobsAndOnlyTls12OverHttps()
    {
        var properties = Main.One("Microsoft.Storage/storageAccounts")["properties"]!;

        ((bool)properties["allowSharedKeyAccess"]!).ShouldBeFalse();
        ((bool)properties["allowBlobPublicAccess"]!).ShouldBeFalse();
        ((string)properties["minimumTlsVersion"]!).ShouldBe("TLS1_2");
        ((bool)properties["supportsHttpsTrafficOnly"]!).ShouldBeTrue();
        ((string)Main.One("Microsoft.Storage/storageAccounts/blobServices/containers")["properties"]!["publicAccess"]!).ShouldBe("None");
    }

    [Fact]
    public void Storage_HasEveryTableTheCodeUses()
    {
        var variables = Main.Root["variables"]!;
        var tables = variables["tableNames"]!.AsArray().Select(t => (string)t!).ToList();

        tables.ShouldBeSubsetOf(tables.Distinct());
        StorageNames.Tables.ShouldBeSubsetOf(tables);
        tables.ShouldContain("deadletters");

        Main.One("Microsoft.Storage/storageAccounts/tableServices/tables")["copy"].ShouldNotBeNull();
        Main.Json.ShouldNotContain("queueServices/queues"); // Durable creates its own control and work-item queues
    }

    [Fact]
    public void RoleAssignments_GiveTheIdentityEachRoleOnTheNarrowestResource()
    {
        var assignments = Main.Resources.Where(r => (string?)r.Resource["type"] == "Microsoft.Authorization/roleAssignments").ToList();
        var granted = new Dictionary<string, string>();
        foreach (var (assignment, template) in assignments)
        {
            var scope = (string?)assignment["scope"];
            scope.ShouldNotBeNullOrEmpty("a role assignment without a scope covers the whole resource group");
            ((string)assignment["properties"]!["principalType"]!).ShouldBe("ServicePrincipal");
            ((string)assignment["name"]!).ShouldStartWith("[guid(");
            foreach (var role in ArmTemplate.RoleIds(assignment, template))
            {
                granted.Add(role, scope!);
            }
        }

        granted.Keys.ShouldBe(
            [StorageBlobDataOwner, StorageQueueDataContributor, StorageTableDataContributor, ServiceBusDataSender, ServiceBusDataReceiver, MonitoringMetricsPublisher],
            ignoreOrder: true);
        granted[StorageBlobDataOwner].ShouldStartWith("[resourceId('Microsoft.Storage/storageAccounts',");
        granted[StorageQueueDataContributor].ShouldStartWith("[resourceId('Microsoft.Storage/storageAccounts',");
        granted[StorageTableDataContributor].ShouldStartWith("[resourceId('Microsoft.Storage/storageAccounts',");
        granted[ServiceBusDataSender].ShouldStartWith("[resourceId('Microsoft.ServiceBus/namespaces/topics',");
        granted[ServiceBusDataReceiver].ShouldStartWith("[resourceId('Microsoft.ServiceBus/namespaces/topics/subscriptions',");
        granted[MonitoringMetricsPublisher].ShouldStartWith("[resourceId('Microsoft.Insights/components',");
    }

    [Fact]
    public void FunctionApp_RunsDotnetIsolated10OnFlexConsumptionAsItsIdentity()
    {
        var plan = Main.One("Microsoft.Web/serverfarms");
        ((string)plan["sku"]!["tier"]!).ShouldBe("FlexConsumption");

        var app = Main.One("Microsoft.Web/sites");
        ((string)app["kind"]!).ShouldContain("linux");
        ((string)app["identity"]!["type"]!).ShouldBe("UserAssigned");
        var properties = app["properties"]!;
        ((bool)properties["httpsOnly"]!).ShouldBeTrue();
        ((string)properties["siteConfig"]!["minTlsVersion"]!).ShouldBe("1.2");
        var config = properties["functionAppConfig"]!;
        ((string)config["runtime"]!["name"]!).ShouldBe("dotnet-isolated");
        ((string)Main.Root["parameters"]!["dotnetVersion"]!["defaultValue"]!).ShouldBe("10.0");
        Main.ModuleParameters("Microsoft.Web/sites")["dotnetVersion"]!["value"]!.ToString().ShouldContain("dotnetVersion");
        ((string)config["deployment"]!["storage"]!["type"]!).ShouldBe("blobContainer");
        ((string)config["deployment"]!["storage"]!["authentication"]!["type"]!).ShouldBe("UserAssignedIdentity");

        Main.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
            .ShouldAllBe(p => !(bool)p["properties"]!["allow"]!);
    }

    [Fact]
    public void HttpFunctions_HaveAlwaysReadyInstancesInProductionOnly()
    {
        var scale = Main.One("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        scale["alwaysReady"]!.ToString().ShouldContain("'name', 'http'");
        ((int)Main.Root["parameters"]!["alwaysReadyHttpInstances"]!["defaultValue"]!).ShouldBe(0);
        ((int)compiled.Parameters["prod"]["alwaysReadyHttpInstances"]!["value"]!).ShouldBeGreaterThan(0);
        compiled.Parameters["dev"].ContainsKey("alwaysReadyHttpInstances").ShouldBeFalse();
    }

    [Fact]
    public void AppSettings_AreIdentityBasedOnly()
    {
        var settings = Main.ModuleParameters("Microsoft.Web/sites")["appSettings"]!["value"]!.AsObject();
        string Setting(string name) => settings[name]?.ToString() ?? throw new ShouldAssertException($"app setting {name} missing");

        settings.Select(s => s.Key).ShouldNotContain("FUNCTIONS_WORKER_RUNTIME"); // Flex: functionAppConfig.runtime
        settings.Select(s => s.Key).ShouldNotContain("AzureWebJobsStorage");
        settings.Select(s => s.Key).ShouldNotContain("Storage");
        settings.Select(s => s.Key).ShouldNotContain("StorageNamePrefix");
        settings.Select(s => s.Key).ShouldNotContain("ASPNETCORE_ENVIRONMENT");
        settings.Select(s => s.Key).ShouldNotContain("DOTNET_ENVIRONMENT");
        settings.Select(s => s.Key).ShouldNotContain(k => k.StartsWith("Auth__DevelopmentIssuer", StringComparison.OrdinalIgnoreCase)); // the dev issuer is never on in Azure
        settings.Select(s => s.Key).ShouldNotContain(k => k.StartsWith("Demo__", StringComparison.OrdinalIgnoreCase));
        settings.Select(s => s.Key).ShouldNotContain(k => k.EndsWith("ConnectionString", StringComparison.OrdinalIgnoreCase) || k.EndsWith("ClientSecret", StringComparison.OrdinalIgnoreCase));

        Setting("AzureWebJobsStorage__blobServiceUri").ShouldContain("blobEndpoint"); // the task hub keeps leases and large payloads in blobs
        Setting("AzureWebJobsStorage__queueServiceUri").ShouldContain("queueEndpoint");
        Setting("AzureWebJobsStorage__tableServiceUri").ShouldContain("tableEndpoint");
        Setting("AzureWebJobsStorage__credential").ShouldBe("managedidentity");
        Setting("DurableTaskHubName").ShouldContain("durableTaskHubName");
        ((string)Main.Root["parameters"]!["durableTaskHubName"]!["defaultValue"]!).ShouldBe("[format('winterops{0}', parameters('environmentName'))]");
        Setting("AzureWebJobsDisableHomepage").ShouldBe("true");
        Setting("Storage__credential").ShouldBe("managedidentity");
        Setting("Storage__tableServiceUri").ShouldContain("tableEndpoint");
        settings.Select(s => s.Key).ShouldNotContain("Storage__queueServiceUri"); // the app's own code uses tables only
        foreach (var clientId in new[] { "AzureWebJobsStorage__clientId", "Storage__clientId", "AZURE_CLIENT_ID" })
        {
            Setting(clientId).ShouldContain("clientId");
        }

        Setting("AZURE_FUNCTIONS_ENVIRONMENT").ShouldBe("Production");
        Setting("Auth__Authority").ShouldContain("authAuthority");
        Setting("Auth__Audience").ShouldContain("authAudience");
        Setting("Auth__OrgClaim").ShouldContain("authOrgClaim");
        Setting("Web__ClientId").ShouldContain("webClientId");
        Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING").ShouldContain("Authorization=AAD");
        Setting("APPLICATIONINSIGHTS_CONNECTION_STRING").ShouldContain("connectionString");
        Setting("Escalations__SystemOrg").ShouldContain("escalationsSystemOrg");
        Setting("Notifications__ServiceBus__FullyQualifiedNamespace").ShouldContain("fullyQualifiedNamespace");
        Setting("Notifications__ServiceBus__TopicName").ShouldContain("topicName");
        Setting("Notifications__Teams__TenantId").ShouldContain("teamsTenantId");
        Setting("Notifications__Teams__ClientId").ShouldContain("clientId");
        Setting("Notifications__Teams__LinkBaseUrl").ShouldContain("linkBaseUrl"); // with TenantId and ClientId set, the app refuses to start without it

        ((string)Main.Root["parameters"]!["teamsWorkflowWebhookUrl"]!["type"]!).ShouldBe("securestring");
        ((bool)Main.One("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!).ShouldBeTrue();
    }

    [Fact]
    public void ServiceBus_IsStandardWithoutSasKeysAndTheTopicDropsDuplicates()
    {
        var ns = Main.One("Microsoft.ServiceBus/namespaces");
        ((string)ns["sku"]!["name"]!).ShouldBe("Standard");
        ((bool)ns["properties"]!["disableLocalAuth"]!).ShouldBeTrue();
        ((string)ns["properties"]!["minimumTlsVersion"]!).ShouldBe("1.2");

        var topic = Main.One("Microsoft.ServiceBus/namespaces/topics")["properties"]!;
        ((bool)topic["requiresDuplicateDetection"]!).ShouldBeTrue();
        ((string)Main.Root["parameters"]!["duplicateDetectionWindow"]!["defaultValue"]!).ShouldBe("PT1H");
        ((string)Main.Root["parameters"]!["topicName"]!["defaultValue"]!).ShouldBe("winterops-events");
    }

    [Fact]
    public void EachPartner_GetsASubscriptionWhoseDefaultRuleIsItsSqlFilter()
    {
        var subscriptions = Main.One("Microsoft.ServiceBus/namespaces/topics/subscriptions");
        subscriptions["copy"]!["count"]!.ToString().ShouldBe("[length(parameters('partners'))]");
        ((string)subscriptions["name"]!).ShouldContain("parameters('partners')[copyIndex()].odsCode");

        var rule = Main.One("Microsoft.ServiceBus/namespaces/topics/subscriptions/rules");
        rule["copy"]!["count"]!.ToString().ShouldBe("[length(parameters('partners'))]");
        ((string)rule["name"]!).ShouldEndWith("'$Default')]");
        ((string)rule["properties"]!["filterType"]!).ShouldBe("SqlFilter");
        var expression = (string)rule["properties"]!["sqlFilter"]!["sqlExpression"]!;
        expression.ShouldContain("tryGet(parameters('partners')[copyIndex()], 'filter')"); // a partner's own filter wins
        expression.ShouldContain("format('TargetOrg = ''{0}'' OR TargetOrg = ''ALL''', parameters('partners')[copyIndex()].odsCode)");
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void ParameterFiles_NamePartnersThatMakeValidSubscriptions(string environment)
    {
        var parameters = compiled.Parameters[environment];
        ((string)parameters["environmentName"]!["value"]!).ShouldBe(environment);
        var partners = parameters["partners"]!["value"]!.AsArray().Select(p => p!.AsObject()).ToList();
        partners.ShouldNotBeEmpty();
        var codes = partners.Select(p => (string)p["odsCode"]!).ToList();
        codes.ShouldBeUnique();
        codes.ShouldAllBe(c => c.Length <= 50 && c.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-' || ch == '.' || ch == '_'));
        partners.Where(p => p["filter"] is not null).ShouldAllBe(p => ((string)p["filter"]!).Contains((string)p["odsCode"]!));
    }

    [Fact]
    public void Outputs_GiveTheUrlTheTopicAndTheIdentity()
    {
        var outputs = Main.Root["outputs"]!.AsObject().Select(o => o.Key);
        outputs.ShouldBe(["functionAppUrl", "functionAppName", "serviceBusNamespace", "serviceBusTopic", "identityClientId", "identityPrincipalId", "teamsSenderClientId"], ignoreOrder: true);
    }
}
