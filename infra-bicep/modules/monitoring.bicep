// Log Analytics and workspace-based Application Insights with local (instrumentation key) auth off:
// telemetry is accepted only with an Entra token, which the app's identity gets from the
// Monitoring Metrics Publisher role assigned here, on this component only.

@description('Azure region.')
param location string

@description('Log Analytics workspace name.')
param workspaceName string

@description('Application Insights component name.')
param appInsightsName string

@description('How long logs are kept, in days.')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Name of the user-assigned managed identity that publishes telemetry.')
param publisherIdentityName string

param tags object

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource publisherIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: publisherIdentityName
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, publisherIdentity.id, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: publisherIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Holds the component id, not a key; with local auth disabled it only says where to send.')
output connectionString string = appInsights.properties.ConnectionString
