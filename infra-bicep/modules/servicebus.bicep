// Service Bus for partner systems: one topic with duplicate detection (WinterOps sends each notification
// with a deterministic MessageId, so redeliveries are dropped here) and one subscription per partner
// whose $Default rule (1=1) is replaced by a SQL filter on the TargetOrg message property.
// SAS keys are off: the app sends with its managed identity, partners receive with their own.
import { partner } from '../types.bicep'

@description('Azure region.')
param location string

@description('Namespace name (globally unique).')
param namespaceName string

@description('Topic the app publishes to.')
param topicName string

@description('How long a MessageId is remembered for duplicate detection (ISO 8601).')
param duplicateDetectionWindow string

@description('How long an unread message waits in a partner subscription before it is dead-lettered (ISO 8601).')
param messageTimeToLive string

@description('One subscription per partner.')
param partners partner[]

@description('Name of the app\'s user-assigned managed identity (Azure Service Bus Data Sender on the topic).')
param senderIdentityName string

param tags object

var dataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource senderIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: senderIdentityName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    defaultMessageTimeToLive: messageTimeToLive
    supportOrdering: false
    enableBatchedOperations: true
  }
}

resource subscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for p in partners: {
    parent: topic
    name: p.odsCode
    properties: {
      maxDeliveryCount: 10
      lockDuration: 'PT1M'
      defaultMessageTimeToLive: messageTimeToLive
      deadLetteringOnMessageExpiration: true
      deadLetteringOnFilterEvaluationExceptions: true
    }
  }
]

// A rule named $Default replaces the catch-all rule every new subscription starts with.
resource filters 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for (p, i) in partners: {
    parent: subscriptions[i]
    name: '$Default'
    properties: {
      filterType: 'SqlFilter'
      sqlFilter: {
        sqlExpression: p.?filter ?? 'TargetOrg = \'${p.odsCode}\' OR TargetOrg = \'ALL\''
      }
    }
  }
]

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderIdentity.id, dataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: senderIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource receivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (p, i) in partners: if (!empty(p.?receiverPrincipalId ?? '')) {
    name: guid(subscriptions[i].id, p.?receiverPrincipalId ?? '', dataReceiver)
    scope: subscriptions[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
      principalId: p.?receiverPrincipalId ?? ''
      principalType: 'ServicePrincipal'
    }
  }
]

// serviceBusEndpoint is https://<ns>.servicebus.windows.net:443/ (the cloud's own suffix).
output fullyQualifiedNamespace string = parseUri(namespace.properties.serviceBusEndpoint).host
output topicName string = topic.name
