// WinterOps in one resource group: a Flex Consumption Function App on the .NET isolated worker with
// Durable Functions, its user-assigned managed identity, one storage account (host storage and the Durable
// task hub and its queues, the app's tables, deployment container), Service Bus for partners, Log Analytics and Application Insights.
// No keys anywhere: every connection is identity-based and every role is scoped to one resource.
// Deploy: ./deploy.sh up --resource-group <rg> --environment dev|prod (README, "Deploy to Azure").
import { partner } from 'types.bicep'

@description('Environment name, part of every resource name.')
@allowed(['dev', 'prod'])
param environmentName string

@description('Azure region (a region where Flex Consumption is available).')
param location string = resourceGroup().location

@description('Lower-case name every resource name starts from.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'winterops'

@description('Entra authority the API accepts tokens from.')
param authAuthority string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

@description('Audience of the API\'s tokens: the API app registration\'s client id (v2 tokens) or its Application ID URI.')
@minLength(1)
param authAudience string

@description('Claim holding the caller\'s organisation (ODS code or CQC location id) as the token carries it.')
param authOrgClaim string = 'org'

@description('Client id of the Entra app registration the pages sign in with through MSAL (SPA platform, redirect URI https://<app>/); empty leaves the pages without sign-in in Azure.')
param webClientId string = ''

@description('ODS code of the partner whose contacts are the ICS executive on-call ladder (e.g. the ICB).')
param escalationsSystemOrg string

@description('Partner organisations; each gets its own Service Bus subscription filtered on TargetOrg.')
param partners partner[] = []

@description('Service Bus topic WinterOps publishes events to.')
param topicName string = 'winterops-events'

@description('Duplicate detection window of the topic (ISO 8601 duration).')
param duplicateDetectionWindow string = 'PT1H'

@description('How long an unread partner message is kept (ISO 8601 duration).')
param messageTimeToLive string = 'P14D'

@description('.NET version of the dotnet-isolated runtime.')
param dotnetVersion string = '10.0'

@description('Always-ready instances for the HTTP functions (prod: people wait on them; each is billed while idle).')
@minValue(0)
param alwaysReadyHttpInstances int = 0

@description('Durable Functions task hub name: letters and digits only.')
param durableTaskHubName string = 'winterops${environmentName}'

@description('Most Flex Consumption instances.')
param maximumInstanceCount int = 40

@description('Memory per instance (MB).')
param instanceMemoryMB int = 2048

@description('Storage redundancy.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@description('Days logs are kept.')
param logRetentionInDays int = 30

@description('Tenant of the Teams recipients (Microsoft Graph).')
param teamsTenantId string = tenant().tenantId

@description('Client id that sends Teams activity notifications; empty: the app\'s managed identity (no secret anywhere). Must equal webApplicationInfo.id in the Teams app.')
param teamsSenderClientId string = ''

@description('Where people open WinterOps: Teams notifications and webhook cards link to items under it (the Teams channel needs it to start). Empty: https://<function app name>.azurewebsites.net (set it where the default host name differs, e.g. other clouds).')
param linkBaseUrl string = ''

@secure()
@description('Optional Teams Workflows webhook URL for a channel feed.')
param teamsWorkflowWebhookUrl string = ''

@description('Tags on every resource.')
param tags object = {}

var suffix = take(uniqueString(subscription().id, resourceGroup().id, namePrefix, environmentName), 6)
var baseName = '${namePrefix}-${environmentName}'
var functionAppName = 'func-${baseName}-${suffix}'
var allTags = union({ application: 'WinterOps', environment: environmentName }, tags)

// src/WinterOps.Azure/Storage/StorageOptions.cs (StorageNames) and the notification dead letters; the
// infrastructure tests fail when the code uses a table that is not here.
var tableNames = ['inbox', 'idempotency', 'offers', 'deadletters', 'durablechecks', 'carehomes', 'placements', 'rounds', 'escalations', 'partners', 'returns']

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}'
  location: location
  tags: allTags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: 'log-${baseName}'
    appInsightsName: 'appi-${baseName}'
    retentionInDays: logRetentionInDays
    publisherIdentityName: identity.name
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    accountName: take('st${replace(namePrefix, '-', '')}${environmentName}${suffix}', 24)
    deploymentContainerName: 'app-package'
    tableNames: tableNames
    identityName: identity.name
    skuName: storageSku
    tags: allTags
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    location: location
    namespaceName: 'sb-${baseName}-${suffix}'
    topicName: topicName
    duplicateDetectionWindow: duplicateDetectionWindow
    messageTimeToLive: messageTimeToLive
    partners: partners
    senderIdentityName: identity.name
    tags: allTags
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    planName: 'plan-${baseName}'
    appName: functionAppName
    identityId: identity.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    dotnetVersion: dotnetVersion
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    teamsWorkflowWebhookUrl: teamsWorkflowWebhookUrl
    tags: allTags
    appSettings: {
      // Functions host storage and the Durable task hub (leases and large payloads in blobs, control and
      // work-item queues, History and Instances tables), identity-based.
      AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
      AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
      AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      DurableTaskHubName: durableTaskHubName
      AzureWebJobsDisableHomepage: 'true'
      // The app's own tables; StorageNamePrefix stays unset.
      Storage__tableServiceUri: storage.outputs.tableEndpoint
      Storage__credential: 'managedidentity'
      Storage__clientId: identity.properties.clientId
      // DefaultAzureCredential (Service Bus) picks the user-assigned identity.
      AZURE_CLIENT_ID: identity.properties.clientId
      // Never Development in Azure: the development issuer and the demo routes stay off.
      AZURE_FUNCTIONS_ENVIRONMENT: 'Production'
      Auth__Authority: authAuthority
      Auth__Audience: authAudience
      Auth__OrgClaim: authOrgClaim
      Web__ClientId: webClientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
      Escalations__SystemOrg: escalationsSystemOrg
      Notifications__ServiceBus__FullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
      Notifications__ServiceBus__TopicName: serviceBus.outputs.topicName
      Notifications__Teams__TenantId: teamsTenantId
      Notifications__Teams__ClientId: empty(teamsSenderClientId) ? identity.properties.clientId : teamsSenderClientId
      Notifications__Teams__LinkBaseUrl: empty(linkBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : linkBaseUrl
    }
  }
}

@description('Base URL of the API.')
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('Function App name, for the package deployment.')
output functionAppName string = functionApp.outputs.name

@description('Service Bus namespace host name partners connect to.')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('Topic partners subscribe to.')
output serviceBusTopic string = serviceBus.outputs.topicName

@description('Client id of the app\'s managed identity (Graph permission grant, Teams app webApplicationInfo.id).')
output identityClientId string = identity.properties.clientId

@description('Object id of the app\'s managed identity\'s service principal (Graph app role assignment).')
output identityPrincipalId string = identity.properties.principalId

@description('Client id to put in the Teams app manifest (webApplicationInfo.id).')
output teamsSenderClientId string = empty(teamsSenderClientId) ? identity.properties.clientId : teamsSenderClientId
