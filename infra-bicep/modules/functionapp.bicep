// The Flex Consumption plan and the Function App that runs WinterOps on the .NET isolated worker. The
// runtime lives in functionAppConfig (FUNCTIONS_WORKER_RUNTIME is not an app setting on Flex); the package
// is pulled from a blob container with the user-assigned identity; every connection is identity-based.

@description('Azure region.')
param location string

param planName string

param appName string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Blob container URL Flex Consumption deploys the package from.')
param deploymentContainerUrl string

@description('.NET version of the dotnet-isolated runtime (functionAppConfig.runtime).')
param dotnetVersion string

@description('Instances kept warm for the HTTP functions (the "http" group): people wait on them. 0: none.')
@minValue(0)
param alwaysReadyHttpInstances int

@description('Most instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance (MB).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('App settings (name -> value); identity-based connections only.')
param appSettings object

@secure()
@description('Optional Teams Workflows webhook URL for channel posts (holds a signature: kept out of template outputs and logs).')
param teamsWorkflowWebhookUrl string

param tags object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: dotnetVersion
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyHttpInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyHttpInstances }] : []
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(
        map(items(appSettings), s => { name: s.key, value: s.value }),
        empty(teamsWorkflowWebhookUrl) ? [] : [{ name: 'Notifications__Teams__WorkflowWebhookUrl', value: teamsWorkflowWebhookUrl }]
      )
    }
  }
}

// No publishing passwords: deployments authenticate with Entra ID (az login) and RBAC on the app.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
